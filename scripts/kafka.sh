#!/usr/bin/env bash
# A real, single-node Apache Kafka broker for the tests (KRaft: one JVM that is both broker and
# controller), run from the official jars on Maven Central. No Docker, no Kafka package needed:
# only Java 17+ and Maven.
#
#   scripts/kafka.sh install   fetch the jars into $KAFKA_HOME/libs-$KAFKA_VERSION (once, then cached)
#   scripts/kafka.sh start     install if needed, format the data dir if needed, start, wait until ready
#   scripts/kafka.sh stop      SIGTERM, wait up to $KAFKA_STOP_TIMEOUT s, then SIGKILL; keeps the data
#   scripts/kafka.sh reset     stop and delete the data (the next start formats a fresh cluster)
#   scripts/kafka.sh status    exit 0 if the broker is running
#   scripts/kafka.sh pause     SIGSTOP the broker (hung: connections open, no answers); resume: SIGCONT
#
# Environment (defaults in brackets):
#   KAFKA_VERSION          [see DEFAULT_KAFKA_VERSION]  any kafka_2.13 release on Maven Central
#   KAFKA_HOME             [<repo>/.cache/kafka]  jars, data, config, pid file and the broker's log
#   KAFKA_PORT             [19092]  client listener, 127.0.0.1 only
#   KAFKA_CONTROLLER_PORT  [19093]  KRaft controller listener, 127.0.0.1 only
#   KAFKA_START_TIMEOUT    [60]     seconds `start` waits for the broker to answer a Metadata request
#   KAFKA_STOP_TIMEOUT     [20]     seconds `stop` waits after SIGTERM before SIGKILL
#   KAFKA_HEAP_OPTS        [-Xms256m -Xmx512m]
#   KAFKA_CDS              [1]      0 = no class-data-sharing archive (see java_flags)
#
# `start` on a running broker and `stop` on a stopped one are no-op successes. Stop/start keeps
# the data, so tests can take the broker away mid-test (an outage) and bring it back.
set -euo pipefail

# The newest release that kafkajs 2.2.4 works with fully (admin, idempotent acks=-1 producer,
# transactions, consumer groups); see tests/kafka_smoke_test.ts.
DEFAULT_KAFKA_VERSION=4.4.0

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KAFKA_VERSION=${KAFKA_VERSION:-$DEFAULT_KAFKA_VERSION}
KAFKA_HOME=${KAFKA_HOME:-$ROOT/.cache/kafka}
KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-60}
KAFKA_STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-20}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
KAFKA_CDS=${KAFKA_CDS:-1}

POM="$ROOT/scripts/kafka/pom.xml"
LIBS="$KAFKA_HOME/libs-$KAFKA_VERSION"
# Class-data archive of the broker (see java_flags), named after the java that wrote it.
java_fingerprint() {
  local java_bin
  java_bin=$(readlink -f "$(command -v java)" 2>/dev/null) || java_bin=none
  { stat -c '%n %Y %s' "$java_bin" 2>/dev/null || echo none; } | cksum | cut -d' ' -f1
}
CDS_ARCHIVE="$LIBS/broker-$(java_fingerprint).jsa"
DATA_DIR="$KAFKA_HOME/data"
# What the data dir was formatted for; a different version or controller port formats it anew.
DATA_STAMP="$KAFKA_HOME/data.formatted-for"
CONFIG="$KAFKA_HOME/server.properties"
LOG4J_CONFIG="$KAFKA_HOME/log4j2.xml"
PID_FILE="$KAFKA_HOME/kafka.pid"
LOG_FILE="$KAFKA_HOME/kafka.log"

say() { echo "kafka.sh: $*" >&2; }
die() {
  echo "kafka.sh: ERROR: $*" >&2
  exit 1
}

# Whether the pid is a Kafka JVM (not a recycled pid).
is_broker() {
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [[ "$cmdline" == *" kafka.Kafka "* ]]
}

# Whether the process exists and has not exited (a zombie has).
alive() {
  local state
  state=$(sed -nE 's/^[0-9]+ \(.*\) ([A-Za-z]) .*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# The pid of our broker if it is running.
broker_pid() {
  local pid
  [ -f "$PID_FILE" ] || return 1
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" && is_broker "$pid" || return 1
  echo "$pid"
}

java_major() {
  java -version 2>&1 | sed -nE '1s/.* version "(1\.)?([0-9]+).*/\2/p'
}

install() {
  if [ -f "$LIBS/.complete" ]; then
    return 0
  fi
  command -v mvn >/dev/null || die "Kafka jars are not in $LIBS and Maven (mvn) is not installed to fetch them"
  mkdir -p "$KAFKA_HOME"
  local tmp="$LIBS.partial.$$" mvn_log="$KAFKA_HOME/mvn-install.log"
  rm -rf "$tmp"
  say "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $LIBS ..."
  # mvn prints colour escapes even with -B -q; keep its output in a file unless it fails.
  if ! mvn -B -q -Dstyle.color=never -f "$POM" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$mvn_log" | tail -n 30 >&2
    rm -rf "$tmp"
    die "could not fetch Apache Kafka $KAFKA_VERSION (org.apache.kafka:kafka_2.13) with Maven; see above and $mvn_log"
  fi
  [ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ] || die "Maven did not fetch kafka_2.13-$KAFKA_VERSION.jar (see $mvn_log)"
  touch "$tmp/.complete"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  say "Apache Kafka $KAFKA_VERSION: $(find "$LIBS" -name '*.jar' | wc -l) jars in $LIBS"
}

write_config() {
  mkdir -p "$KAFKA_HOME"
  cat >"$CONFIG" <<EOF
# Written by scripts/kafka.sh on every start; edit the script, not this file.
# A single combined broker+controller node (KRaft) for tests, listening on 127.0.0.1 only.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER

log.dirs=$DATA_DIR
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
delete.topic.enable=true

# Internal topics: one replica (one broker), few partitions (fast first group join, fast restart).
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

# Small footprint: the log cleaner allocates its dedupe buffer on the heap up front (128 MiB by default).
log.cleaner.dedupe.buffer.size=16777216
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
EOF
  # Log4j2 (Kafka 4 logs through it): everything goes to the JVM's stdout, which start() appends
  # to $LOG_FILE; nothing reaches the terminal. WARN in general, INFO for the few loggers that say
  # when the node starts, is ready and stops. shutdownHook="disable": Kafka logs while it shuts
  # down, after log4j2's own hook would already have stopped logging.
  cat >"$LOG4J_CONFIG" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by scripts/kafka.sh. The JVM's stdout is appended to the broker's log file. -->
<Configuration status="warn" shutdownHook="disable">
  <Appenders>
    <Console name="STDOUT" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="STDOUT"/></Root>
    <Logger name="kafka.Kafka$" level="INFO"/>
    <Logger name="kafka.server.KafkaRaftServer" level="INFO"/>
    <Logger name="kafka.server.BrokerServer" level="INFO"/>
    <Logger name="kafka.server.ControllerServer" level="INFO"/>
    <Logger name="kafka.server.SharedServer" level="INFO"/>
    <Logger name="org.apache.kafka.common.utils.AppInfoParser" level="INFO"/>
    <!-- Clients vanishing (tests kill connections on purpose) is not worth a warning. -->
    <Logger name="org.apache.kafka.common.network.Selector" level="ERROR"/>
  </Loggers>
</Configuration>
EOF
}

# The JVM flags: Kafka's own (bin/kafka-run-class.sh, 4.x) minus JMX and GC logging, plus:
# - TieredStopAtLevel=1: C1 only; starts faster and burns less CPU next to the tests.
# - class data sharing (KAFKA_CDS=1, the default): the first broker run records the classes it
#   loaded (-XX:ArchiveClassesAtExit, written when it exits, which makes that one stop ~4 s
#   slower); `stop` keeps the archive only after a clean exit, and later starts map it
#   (-XX:SharedArchiveFile), which roughly halves the start time. A broker that dies during
#   startup with the archive is retried once without it (and the archive is deleted).
# $1 = broker (may record the archive) or tool (never records).
java_flags() {
  # shellcheck disable=SC2206 # KAFKA_HEAP_OPTS is a list of flags
  local heap=($KAFKA_HEAP_OPTS)
  printf '%s\n' "${heap[@]}" -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError "-XX:ErrorFile=$KAFKA_HOME/hs_err_pid%p.log" \
    -Xlog:cds=error "-Dkafka.logs.dir=$KAFKA_HOME" "-Dlog4j2.configurationFile=$LOG4J_CONFIG"
  if [ "$KAFKA_CDS" != 0 ]; then
    if [ -f "$CDS_ARCHIVE" ]; then
      echo "-XX:SharedArchiveFile=$CDS_ARCHIVE"
    elif [ "$1" = broker ]; then
      echo "-XX:ArchiveClassesAtExit=$CDS_ARCHIVE.new"
    fi
  fi
  printf '%s\n' -cp "$LIBS/*"
}

# A random cluster id as kafka-storage.sh random-uuid prints it (16 bytes, base64url, no padding;
# Kafka never hands out ids that start with '-', they read like command-line options).
random_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ "$id" == -* ]] || break
  done
  echo "$id"
}

format_if_needed() {
  local stamp="kafka=$KAFKA_VERSION controller=127.0.0.1:$KAFKA_CONTROLLER_PORT"
  if [ -f "$DATA_DIR/meta.properties" ]; then
    if [ "$(cat "$DATA_STAMP" 2>/dev/null)" = "$stamp" ]; then
      return 0
    fi
    say "the data in $DATA_DIR was formatted for '$(cat "$DATA_STAMP" 2>/dev/null || echo unknown)', not '$stamp': deleting it"
  fi
  rm -rf "$DATA_DIR" "$DATA_STAMP"
  local flags
  mapfile -t flags < <(KAFKA_CDS=0 java_flags tool)
  say "formatting a new single-node KRaft cluster in $DATA_DIR"
  # What bin/kafka-storage.sh format --standalone -t <id> -c server.properties runs.
  if ! (cd "$KAFKA_HOME" && java "${flags[@]}" kafka.tools.StorageTool format --standalone \
    -t "$(random_cluster_id)" -c "$CONFIG" >>"$LOG_FILE" 2>&1); then
    tail -n 20 "$LOG_FILE" >&2
    die "Kafka could not format its data dir $DATA_DIR (kafka.tools.StorageTool); see above and $LOG_FILE"
  fi
  echo "$stamp" >"$DATA_STAMP"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Sends a Metadata request (v4: all topics, no auto-creation) to the client listener and succeeds
# if the answer lists our broker (node 1). A KRaft broker only serves requests once it has caught
# up with the metadata log and is unfenced, so this means "ready to produce and consume".
metadata_ok() {
  local reply
  reply=$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT" || exit 1
    # size=23 | api_key=3 (Metadata) | version=4 | correlation_id=42 | client_id="kafka-sh"
    # | topics=null (-1: all) | allow_auto_topic_creation=false
    printf '\x00\x00\x00\x17\x00\x03\x00\x04\x00\x00\x00\x2a\x00\x08kafka-sh\xff\xff\xff\xff\x00' >&3
    # size(4) correlation_id(4) throttle_time_ms(4) brokers: count(4) node_id(4) ...
    timeout 3 head -c 20 <&3 | od -An -v -tx1 | tr -d ' \n'
  ) || return 1
  [ "${#reply}" -eq 40 ] || return 1
  [ "${reply:8:8}" = 0000002a ] || return 1   # our correlation id
  [ "${reply:24:8}" != 00000000 ] || return 1 # at least one broker
  [ "${reply:32:8}" = 00000001 ] || return 1  # ... and it is node 1
}

# Starts the JVM in the background and waits until it is ready (0) or has exited (1);
# dies on timeout.
launch_and_wait() {
  local flags pid began=$SECONDS
  rm -f "$CDS_ARCHIVE.new"
  mapfile -t flags < <(java_flags broker)
  # setsid: its own session, so a Ctrl-C in the terminal that runs the tests does not reach it
  # (scripts/test.sh stops it). The subshell is not a process group leader, so setsid execs java
  # in place and $! is the JVM's pid. Working dir $KAFKA_HOME: nothing lands in the repo.
  # 9>&-: the broker must not hold the lock (see lock()).
  (cd "$KAFKA_HOME" && exec setsid nohup java "${flags[@]}" kafka.Kafka "$CONFIG" >>"$LOG_FILE" 2>&1 </dev/null 9>&-) &
  pid=$!
  echo "$pid" >"$PID_FILE"
  while :; do
    if ! alive "$pid"; then
      rm -f "$PID_FILE"
      return 1
    fi
    if metadata_ok; then
      say "Kafka $KAFKA_VERSION is ready on 127.0.0.1:$KAFKA_PORT (pid $pid, $((SECONDS - began)) s; log $LOG_FILE)"
      return 0
    fi
    if [ $((SECONDS - began)) -ge "$KAFKA_START_TIMEOUT" ]; then
      tail -n 25 "$LOG_FILE" >&2
      stop >/dev/null 2>&1 || true
      die "Kafka $KAFKA_VERSION did not become ready on 127.0.0.1:$KAFKA_PORT within ${KAFKA_START_TIMEOUT}s (stopped it again); see above and $LOG_FILE"
    fi
    sleep 0.2
  done
}

start() {
  local pid
  if pid=$(broker_pid); then
    say "Kafka is already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  rm -f "$PID_FILE"
  command -v java >/dev/null || die "Kafka needs Java (17 or newer); 'java' is not on PATH"
  if [[ "$KAFKA_VERSION" == [4-9].* ]] && [ "$(java_major)" -lt 17 ]; then
    die "Kafka $KAFKA_VERSION needs Java 17 or newer; 'java' is $(java_major)"
  fi
  local port
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$port"; then
      die "cannot start Kafka: something else already listens on 127.0.0.1:$port (not the broker in $PID_FILE)"
    fi
  done
  install
  write_config
  # One log file across restarts (an outage test wants both halves), rotated when it gets big.
  if [ -f "$LOG_FILE" ] && [ "$(stat -c %s "$LOG_FILE")" -gt 20000000 ]; then
    mv -f "$LOG_FILE" "$LOG_FILE.1"
  fi
  echo "===== $(date '+%F %T') scripts/kafka.sh start: Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT =====" >>"$LOG_FILE"
  format_if_needed

  if launch_and_wait; then
    return 0
  fi
  if [ "$KAFKA_CDS" != 0 ] && [ -f "$CDS_ARCHIVE" ]; then
    tail -n 5 "$LOG_FILE" >&2
    say "Kafka exited during startup while using the class-data archive $CDS_ARCHIVE; deleting it and trying once more without"
    rm -f "$CDS_ARCHIVE"
    if launch_and_wait; then
      return 0
    fi
  fi
  tail -n 25 "$LOG_FILE" >&2
  die "Kafka $KAFKA_VERSION exited during startup; see above and $LOG_FILE"
}

stop() {
  local pid killed=0
  if ! pid=$(broker_pid); then
    rm -f "$PID_FILE"
    say "Kafka is not running"
    return 0
  fi
  local began=$SECONDS
  # A paused broker (see pause) would only take the SIGTERM once continued.
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  while alive "$pid" && [ $((SECONDS - began)) -lt "$KAFKA_STOP_TIMEOUT" ]; do
    sleep 0.1
  done
  if alive "$pid"; then
    say "Kafka (pid $pid) did not stop within ${KAFKA_STOP_TIMEOUT}s of SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    killed=1
    while alive "$pid"; do sleep 0.1; done
  fi
  rm -f "$PID_FILE"
  # A class-data archive recorded by this run is complete only if the JVM exited by itself.
  local recorded
  for recorded in "$LIBS"/*.jsa.new; do
    [ -f "$recorded" ] || continue
    if [ "$killed" = 0 ]; then mv -f "$recorded" "${recorded%.new}"; else rm -f "$recorded"; fi
  done
  say "Kafka stopped (pid $pid, $((SECONDS - began)) s)"
}

# A hung broker, as a long GC pause or a frozen VM looks to clients: connections stay open and
# nothing answers until resume. Tests use it to check that a pause sends no event twice.
pause() {
  local pid
  pid=$(broker_pid) || die "Kafka is not running"
  kill -STOP "$pid"
  say "Kafka paused (pid $pid, SIGSTOP)"
}

resume() {
  local pid
  pid=$(broker_pid) || die "Kafka is not running"
  kill -CONT "$pid"
  say "Kafka resumed (pid $pid, SIGCONT)"
}

reset() {
  stop
  rm -rf "$DATA_DIR" "$DATA_STAMP"
  say "Kafka data deleted ($DATA_DIR); the next start formats a new cluster"
}

status() {
  local pid
  if pid=$(broker_pid); then
    echo "Kafka is running (pid $pid) on 127.0.0.1:$KAFKA_PORT; log: $LOG_FILE"
    return 0
  fi
  echo "Kafka is not running"
  return 1
}

# start/stop/reset/install of one KAFKA_HOME run one at a time (parallel test runs share it).
lock() {
  mkdir -p "$KAFKA_HOME"
  exec 9>"$KAFKA_HOME/kafka.lock"
  flock -w 180 9 || die "another scripts/kafka.sh has held $KAFKA_HOME/kafka.lock for 180 s"
}

case "${1:-}" in
install) lock && install ;;
start) lock && start ;;
stop) lock && stop ;;
reset) lock && reset ;;
status) status ;;
pause) pause ;;
resume) resume ;;
*)
  echo "usage: $0 install|start|stop|reset|status|pause|resume   (see the top of this file for the environment)" >&2
  exit 2
  ;;
esac
