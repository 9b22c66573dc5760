package postgres

// DBError lets the external tests check the one place driver errors are mapped.
var DBError = dbError
