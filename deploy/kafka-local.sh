#!/usr/bin/env bash
# Start, stop or check a single-node Apache Kafka 4.x (KRaft) built from Maven
# Central jars: no Docker, no tarball download, just Java 17+ and Maven.
#
#   deploy/kafka-local.sh start    # prints the bootstrap address when ready
#   deploy/kafka-local.sh stop
#   deploy/kafka-local.sh status
#
#   deploy/kafka-local.sh secure   # prints the secured listeners and client files
#   deploy/kafka-local.sh clean    # stops it and deletes its topics (keeps jars and certificates)
#
# Besides PLAINTEXT on PORT it listens with TLS on PORT+2 (SSL, client
# certificate required) and PORT+3 (SASL_SSL: PLAIN, SCRAM-SHA-256 and
# SCRAM-SHA-512 for user "logveil"), with a throw-away CA and certificates made
# by openssl in $dir/secure (skipped without openssl, or with
# KAFKA_LOCAL_SECURE=0).
#
# Environment: KAFKA_LOCAL_DIR (default <repo>/.kafka), KAFKA_LOCAL_PORT
# (default 9092; the controller listens on PORT+1), KAFKA_VERSION (4.1.1),
# KAFKA_HEAP (512m), KAFKA_LOCAL_SECURE (1).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${KAFKA_LOCAL_DIR:-$repo/.kafka}
port=${KAFKA_LOCAL_PORT:-9092}
cport=$((port + 1))
sslport=$((port + 2))
saslport=$((port + 3))
secure=${KAFKA_LOCAL_SECURE:-1}
sdir=$dir/secure
# The SASL user's password: a local test broker's, not a secret.
sasl_user=logveil
sasl_password=logveil-local-password
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

# make_certs writes a CA, a server certificate for 127.0.0.1 and a client
# certificate, all PEM (Kafka reads PEM key stores since 2.7).
make_certs() {
  [ -f "$sdir/server.pem" ] && [ -f "$sdir/client.pem" ] && return 0
  mkdir -p "$sdir"
  (
    cd "$sdir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=logveil-local-ca \
      -keyout ca.key -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile server.ext -out server.crt
    cat server.key server.crt > server.pem
    openssl req -newkey rsa:2048 -nodes -subj /CN=logveil-client -keyout client.key -out client.csr
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -out client.pem
    rm -f ./*.csr server.ext ca.srl
  ) >"$sdir/openssl.log" 2>&1 || { log "certificates failed:"; cat "$sdir/openssl.log" >&2; exit 1; }
}

secure_on() { [ "$secure" = 1 ] && command -v openssl >/dev/null; }

write_config() {
  mkdir -p "$dir/data"
  local listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport"
  local advertised="PLAINTEXT://127.0.0.1:$port"
  local protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if secure_on; then
    listeners+=",SSL://127.0.0.1:$sslport,SASL_SSL://127.0.0.1:$saslport"
    advertised+=",SSL://127.0.0.1:$sslport,SASL_SSL://127.0.0.1:$saslport"
    protocols+=",SSL:SSL,SASL_SSL:SASL_SSL"
  fi
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols
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
  if secure_on; then
    cat >> "$dir/server.properties" <<PROPS
ssl.keystore.type=PEM
ssl.keystore.location=$sdir/server.pem
ssl.truststore.type=PEM
ssl.truststore.location=$sdir/ca.pem
listener.name.ssl.ssl.client.auth=required
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$sasl_user="$sasl_password";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
PROPS
  fi
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
  secure_on && make_certs
  write_config
  # SCRAM users are stored in the cluster metadata: added when the storage is
  # first formatted (a data directory formatted before keeps what it had).
  local scram=()
  secure_on && scram=(--add-scram "SCRAM-SHA-256=[name=$sasl_user,password=$sasl_password]"
    --add-scram "SCRAM-SHA-512=[name=$sasl_user,password=$sasl_password]")
  java -cp "$dir/lib/*" -Dlog4j2.configurationFile="$dir/log4j2.xml" kafka.tools.StorageTool format \
    -t "bG9ndmVpbC1sb2NhbC0wMQ" -c "$dir/server.properties" --ignore-formatted "${scram[@]}" >"$dir/format.log" 2>&1 ||
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
  clean) stop; rm -rf "$dir/data"; log "data deleted: the next start formats a new cluster" ;;
  secure)
    secure_on || { log "secure listeners are off (KAFKA_LOCAL_SECURE=0 or no openssl)"; exit 1; }
    printf 'ssl=127.0.0.1:%s\nsasl_ssl=127.0.0.1:%s\nca=%s\ncert=%s\nkey=%s\nuser=%s\npassword=%s\n' \
      "$sslport" "$saslport" "$sdir/ca.pem" "$sdir/client.pem" "$sdir/client.key" "$sasl_user" "$sasl_password" ;;
  status) if running && ready; then echo "running 127.0.0.1:$port (pid $(cat "$pidfile"))"; else echo "not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|secure|clean" >&2; exit 2 ;;
esac
