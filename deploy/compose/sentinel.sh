#!/bin/sh
# One Redis Sentinel of the "ha" profile: watches the primary `redis` under the name "bossraid";
# two of the three must agree before the replica is promoted.
set -eu
cat > /tmp/sentinel.conf <<CONF
port 26379
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel monitor bossraid redis 6379 2
sentinel down-after-milliseconds bossraid 5000
sentinel failover-timeout bossraid 30000
sentinel parallel-syncs bossraid 1
CONF
exec redis-sentinel /tmp/sentinel.conf
