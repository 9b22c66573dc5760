#!/bin/sh
# Run once by the postgres image when it creates the database (docker-entrypoint-initdb.d):
# let the superuser connect for streaming replication from the compose network, with its
# password, so the "ha" profile's postgres-standby can take its base backup and follow.
set -eu
echo "host replication $POSTGRES_USER all scram-sha-256" >> "$PGDATA/pg_hba.conf"
