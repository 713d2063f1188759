#!/usr/bin/env bash
# Start, stop or check a single-node Apache Kafka 4.x (KRaft) built from Maven
# Central jars: no Docker, no tarball download, just Java 17+ and Maven.
#
#   deploy/kafka-local.sh start    # prints the bootstrap address when ready
#   deploy/kafka-local.sh stop
#   deploy/kafka-local.sh status
#
# Environment: KAFKA_LOCAL_DIR (default <repo>/.kafka), KAFKA_LOCAL_PORT
# (default 9092; the controller listens on PORT+1), KAFKA_VERSION (4.1.1),
# KAFKA_HEAP (512m).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${KAFKA_LOCAL_DIR:-$repo/.kafka}
port=${KAFKA_LOCAL_PORT:-9092}
cport=$((port + 1))
version=${KAFKA_VERSION:-4.1.1}
log4j=${LOG4J_VERSION:-2.24.3}
heap=${KAFKA_HEAP:-512m}
pidfile=$dir/kafka.pid

log() { echo "kafka-local: $*" >&2; }

fetch_jars() {
  [ -f "$dir/lib/.complete-$version" ] && return 0
  command -v mvn >/dev/null || { log "mvn not found: install Maven (and Java 17+)"; exit 1; }
  mkdir -p "$dir/lib"
  cat > "$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.logveil.local</groupId><artifactId>kafka-local</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$log4j</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$log4j</version></dependency>
  </dependencies>
</project>
POM
  log "fetching Kafka $version jars from Maven Central"
  # Maven's output goes to a log: stdout carries only the bootstrap address.
  if ! mvn -q -B -Dstyle.color=never -f "$dir/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$dir/lib" >"$dir/mvn.log" 2>&1; then
    log "maven failed:"; tail -30 "$dir/mvn.log" >&2; exit 1
  fi
  touch "$dir/lib/.complete-$version"
}

write_config() {
  mkdir -p "$dir/data"
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.cleaner.backoff.ms=1000
PROPS
  cat > "$dir/log4j2.xml" <<'XML'
<Configuration status="WARN">
  <Appenders><Console name="out" target="SYSTEM_OUT"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
  <Loggers>
    <Logger name="kafka" level="INFO"/><Logger name="org.apache.kafka" level="WARN"/>
    <Root level="WARN"><AppenderRef ref="out"/></Root>
  </Loggers>
</Configuration>
XML
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

ready() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && grep -q "Kafka Server started" "$dir/kafka.log" 2>/dev/null; }

start() {
  if running; then log "already running (pid $(cat "$pidfile"))"; echo "127.0.0.1:$port"; return 0; fi
  command -v java >/dev/null || { log "java not found: install Java 17+"; exit 1; }
  fetch_jars
  write_config
  java -cp "$dir/lib/*" -Dlog4j2.configurationFile="$dir/log4j2.xml" kafka.tools.StorageTool format \
    -t "bG9ndmVpbC1sb2NhbC0wMQ" -c "$dir/server.properties" --ignore-formatted >"$dir/format.log" 2>&1 ||
    { log "storage format failed:"; cat "$dir/format.log" >&2; exit 1; }
  nohup java -Xmx"$heap" -Xms"$heap" -XX:+UseSerialGC -Dlog4j2.configurationFile="$dir/log4j2.xml" \
    -cp "$dir/lib/*" kafka.Kafka "$dir/server.properties" >"$dir/kafka.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    if ready; then log "ready (pid $(cat "$pidfile"), log $dir/kafka.log)"; echo "127.0.0.1:$port"; return 0; fi
    running || { log "broker exited:"; tail -30 "$dir/kafka.log" >&2; exit 1; }
    sleep 0.5
  done
  log "not ready after 60 s:"; tail -30 "$dir/kafka.log" >&2; exit 1
}

stop() {
  if ! running; then log "not running"; rm -f "$pidfile"; return 0; fi
  local pid; pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; log "stopped"; return 0; }; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true; rm -f "$pidfile"; log "killed after 30 s"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running && ready; then echo "running 127.0.0.1:$port (pid $(cat "$pidfile"))"; else echo "not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
