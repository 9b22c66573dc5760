package faults

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The highly available Redis topologies: a primary with a replica watched by Sentinels, and a
// Redis Cluster of primaries. Everything runs from Debian's redis-server (Sentinel is its
// --sentinel mode), on free loopback ports, and ends with the test.

// RedisNode is one redis-server process (a primary, a replica, a Sentinel or a cluster
// node) started with its own arguments.
type RedisNode struct {
	Port int
	dir  string
	args []string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Addr is the node's host:port.
func (n *RedisNode) Addr() string { return fmt.Sprintf("127.0.0.1:%d", n.Port) }

// startNode runs redis-server with args (a config file first when conf is not empty) and
// waits until it answers PING.
func startNode(t testing.TB, name, conf string, args ...string) *RedisNode {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed (apt-get install -y redis-server; `make test` installs it): %v", err)
	}
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	n := &RedisNode{Port: port, dir: dir}
	if conf != "" {
		file := filepath.Join(dir, name+".conf")
		if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		n.args = append(n.args, file)
	}
	n.args = append(n.args, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log"), "--daemonize", "no")
	n.args = append(n.args, args...)
	t.Cleanup(func() {
		n.Kill()
		if t.Failed() {
			t.Logf("log of redis node %s (%s):\n%s", name, n.Addr(), tail(n.Logs(), 4000))
		}
	})
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	return n
}

func (n *RedisNode) start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	cmd := exec.Command("redis-server", n.args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	n.cmd, n.done = cmd, done
	probe := &Redis{Port: n.Port}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if probe.ping() == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("redis-server %v exited at start:\n%s", n.args, n.Logs())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("redis-server did not answer on port %d", n.Port)
}

// Kill ends the node with SIGKILL, as a crash would, and waits for it to be gone.
func (n *RedisNode) Kill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
	n.cmd = nil
}

// Do sends one command with redis-cli and returns its answer.
func (n *RedisNode) Do(args ...string) (string, error) {
	out, err := exec.Command("redis-cli", append([]string{"-p", strconv.Itoa(n.Port)}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Logs returns the node's log file.
func (n *RedisNode) Logs() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "redis.log"))
	return string(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// SentinelMaster is the master name the Sentinels of StartSentinelSet watch.
const SentinelMaster = "bossraid"

// SentinelSet is a primary, a replica and three Sentinels (quorum 2) that fail the primary
// over to the replica about a second after it stops answering.
type SentinelSet struct {
	Primary, Replica *RedisNode
	Sentinels        []*RedisNode
}

// StartSentinelSet starts the set and waits until every Sentinel knows the replica and the
// other Sentinels, so a failover can happen.
func StartSentinelSet(t testing.TB) *SentinelSet {
	t.Helper()
	s := &SentinelSet{Primary: startNode(t, "primary", "", "--save", "", "--appendonly", "no")}
	s.Replica = startNode(t, "replica", "", "--save", "", "--appendonly", "no",
		"--replicaof", "127.0.0.1", strconv.Itoa(s.Primary.Port))
	conf := fmt.Sprintf(`sentinel resolve-hostnames no
sentinel monitor %[1]s 127.0.0.1 %[2]d 2
sentinel down-after-milliseconds %[1]s 1000
sentinel failover-timeout %[1]s 10000
sentinel parallel-syncs %[1]s 1
`, SentinelMaster, s.Primary.Port)
	for i := range 3 {
		// Sentinel rewrites its config file, so each has its own.
		s.Sentinels = append(s.Sentinels, startNode(t, fmt.Sprintf("sentinel-%d", i+1), conf, "--sentinel"))
	}
	Eventually(t, 30*time.Second, "the replica follows the primary and the Sentinels know each other", func() error {
		if info, _ := s.Replica.Do("info", "replication"); !strings.Contains(info, "master_link_status:up") {
			return errors.New("replica link not up")
		}
		for _, sn := range s.Sentinels {
			replicas, _ := sn.Do("sentinel", "replicas", SentinelMaster)
			if !strings.Contains(replicas, strconv.Itoa(s.Replica.Port)) {
				return fmt.Errorf("sentinel %d does not know the replica yet", sn.Port)
			}
			if n, _ := sn.Do("sentinel", "sentinels", SentinelMaster); strings.Count(n, "runid") < 2 {
				return fmt.Errorf("sentinel %d does not know the other Sentinels yet", sn.Port)
			}
		}
		return nil
	})
	return s
}

// URL is the REDIS_URL of the set in go-redis's failover form.
func (s *SentinelSet) URL() string {
	u := fmt.Sprintf("redis://%s/0?master_name=%s", s.Sentinels[0].Addr(), SentinelMaster)
	for _, sn := range s.Sentinels[1:] {
		u += "&addr=" + sn.Addr()
	}
	return u
}

// MasterAddr is the primary's address as the first live Sentinel reports it.
func (s *SentinelSet) MasterAddr() (string, error) {
	var errs []error
	for _, sn := range s.Sentinels {
		out, err := sn.Do("sentinel", "get-master-addr-by-name", SentinelMaster)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f := strings.Fields(out)
		if len(f) != 2 {
			errs = append(errs, fmt.Errorf("sentinel %d answered %q", sn.Port, out))
			continue
		}
		return net.JoinHostPort(f[0], f[1]), nil
	}
	return "", errors.Join(errs...)
}

// RedisCluster is a Redis Cluster of primaries without replicas.
type RedisCluster struct {
	Nodes []*RedisNode
}

// StartRedisCluster starts n cluster-enabled nodes, joins them with redis-cli --cluster
// create (the slots split evenly) and waits until every node reports the cluster ok.
func StartRedisCluster(t testing.TB, n int) *RedisCluster {
	t.Helper()
	c := &RedisCluster{}
	create := []string{"--cluster", "create"}
	for i := range n {
		// The cluster bus port is chosen free too (by default it is the port + 10000).
		bus, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		node := startNode(t, fmt.Sprintf("cluster-%d", i+1), "", "--save", "", "--appendonly", "no",
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(bus), "--cluster-node-timeout", "2000")
		c.Nodes = append(c.Nodes, node)
		create = append(create, node.Addr())
	}
	create = append(create, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", create...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	// Ok, and linked to every other node: PUBLISH travels over those links.
	Eventually(t, 30*time.Second, "every cluster node says the cluster is ok", func() error {
		for _, node := range c.Nodes {
			if info, _ := node.Do("cluster", "info"); !strings.Contains(info, "cluster_state:ok") {
				return fmt.Errorf("node %s: %q", node.Addr(), info)
			}
			nodes, _ := node.Do("cluster", "nodes")
			if strings.Count(nodes, " connected") != n {
				return fmt.Errorf("node %s does not see every node connected: %q", node.Addr(), nodes)
			}
		}
		return nil
	})
	return c
}

// URL is the REDIS_URL of the cluster: the first node, the others as addr, cluster=true.
func (c *RedisCluster) URL() string {
	u := "redis://" + c.Nodes[0].Addr() + "/0?cluster=true"
	for _, node := range c.Nodes[1:] {
		u += "&addr=" + node.Addr()
	}
	return u
}
