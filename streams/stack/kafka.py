"""Apache Kafka as a local process: one KRaft node (broker + controller).

The broker's runtime class path is resolved once from Maven Central into the
cache; storage is formatted on first start. A secure stack (``stack up --secure``)
has SASL/SCRAM-SHA-512 on the client listener, SASL/PLAIN on the controller listener,
and KRaft's StandardAuthorizer refusing whatever no ACL allows.
"""

from __future__ import annotations

import base64
import shutil
import uuid
from importlib.resources import files
from pathlib import Path

from connectors.config import kafka_config
from streams.settings import KafkaSettings, Settings, StackCredentials, load_stack_credentials, with_kafka_credentials
from streams.stack.credentials import KafkaStorage, write_private
from streams.stack.process import ServiceProcess, StackError, port_open, run_with_progress

LOG4J2 = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders><Console name="out" target="SYSTEM_OUT">
    <PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
  <Loggers>
    <Logger name="kafka" level="INFO"/><Logger name="org.apache.kafka" level="INFO"/>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Root level="WARN"><AppenderRef ref="out"/></Root>
  </Loggers>
</Configuration>
"""


class Kafka:
    name = "kafka"

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.proc = ServiceProcess(self.name, settings.stack.data_dir)
        self.version = settings.stack.kafka_version
        self.libs = settings.stack.cache_dir / "kafka" / self.version / "libs"
        self.home = settings.stack.data_dir / "kafka"
        self.ports = [settings.stack.kafka_port, settings.stack.kafka_controller_port]
        self.creds = load_stack_credentials(settings.stack.data_dir)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.s.stack.kafka_port}"

    @property
    def auth(self) -> str:
        return "scram+acl" if self.creds else "none"

    @property
    def secure_marker(self) -> Path:
        return self.home / "formatted-secure"

    def storage(self) -> KafkaStorage:
        if not (self.home / "data" / "meta.properties").exists():
            return "fresh"
        return "secure" if self.secure_marker.exists() else "plain"

    def client_settings(self) -> KafkaSettings:
        """How Headwater's own probes reach this broker: its address, and its admin user when secure."""
        plain = KafkaSettings(bootstrap_servers=self.address)
        return with_kafka_credentials(plain, self.creds) if self.creds else plain

    def install(self) -> None:
        if (self.libs / f"kafka_2.13-{self.version}.jar").exists():
            return
        if shutil.which("java") is None:
            raise StackError("java not found: install a JDK 17+ (Debian: apt-get install openjdk-17-jre-headless)")
        if shutil.which("mvn") is None:
            raise StackError("mvn not found: install Apache Maven (Debian: apt-get install maven)")
        pom = Path(str(files("streams.stack").joinpath("kafka-pom.xml")))
        tmp = self.libs.with_name("libs.partial")
        shutil.rmtree(tmp, ignore_errors=True)
        run_with_progress(
            ["mvn", "-B", "-f", str(pom), f"-Dmaven.repo.local={self.s.stack.cache_dir / 'm2'}",
             f"-Dkafka.version={self.version}",
             "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
             "-DincludeScope=runtime", f"-DoutputDirectory={tmp}"],
            self.proc.log_file.with_name("kafka-install.log"),
            f"kafka {self.version}: resolving jars from Maven Central",
        )
        tmp.rename(self.libs)

    def _java(self, main: str, *args: str) -> list[str]:
        return ["java", "-Xms256m", "-Xmx512m", f"-Dlog4j2.configurationFile={self.home / 'log4j2.xml'}",
                "-cp", f"{self.libs}/*", main, *args]

    def _write_config(self) -> Path:
        k = self.s.kafka
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "log4j2.xml").write_text(LOG4J2)
        port, cport = self.s.stack.kafka_port, self.s.stack.kafka_controller_port
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{cport}",
            **(secure_listeners(port, cport, self.creds) if self.creds else plain_listeners(port, cport)),
            "log.dirs": str(self.home / "data"),
            "num.partitions": str(k.partitions),
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true",
            "message.max.bytes": str(k.message_max_bytes),  # max_event_bytes plus room for key and headers
        }
        path = self.home / "server.properties"
        # Private: a secure stack's JAAS lines hold passwords.
        write_private(path, "".join(f"{key}={value}\n" for key, value in props.items()))
        return path

    def _scram_args(self) -> list[str]:
        """The admin user, written into the metadata log at format time: the only way to have a first one."""
        if self.creds is None:
            return []
        c = self.creds
        return ["--add-scram", f"{c.kafka_mechanism}=[name={c.kafka_username},"
                               f"password={c.kafka_password.get_secret_value()}]"]

    def start(self) -> None:
        config = self._write_config()
        if not (self.home / "data" / "meta.properties").exists():
            cluster_id = uuid.uuid4().bytes
            cid = base64.urlsafe_b64encode(cluster_id).decode().rstrip("=")
            # "--cluster-id=" form: a base64 id may start with "-", which argparse would take for an option.
            run_with_progress(self._java("kafka.tools.StorageTool", "format", f"--cluster-id={cid}",
                                         "--config", str(config), *self._scram_args()),
                              self.proc.log_file, "kafka: formatting storage")
            if self.creds is not None:
                self.secure_marker.write_text("formatted with the SCRAM user of ../credentials.json\n")
        heap = self.s.stack.kafka_heap_opts.split()
        argv = self._java("kafka.Kafka", str(config))
        argv[1:3] = heap
        self.proc.start(argv, cwd=self.home)

    def ready(self) -> bool:
        if not port_open("127.0.0.1", self.s.stack.kafka_port):
            return False
        from confluent_kafka.admin import AdminClient

        try:
            # log_level 0: while the broker starts, a failed probe is the expected answer, not news for stderr.
            conf = kafka_config(self.client_settings(), "headwater-stack") | {"log_level": 0}
            md = AdminClient(conf).list_topics(timeout=2)
        except Exception:  # noqa: BLE001 - any failure means "not ready yet"
            return False
        return md.controller_id is not None and md.controller_id >= 0 and bool(md.brokers)

    def wipe(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)


def plain_listeners(port: int, cport: int) -> dict[str, str]:
    return {
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    }


def secure_listeners(port: int, cport: int, c: StackCredentials) -> dict[str, str]:
    """SCRAM for clients (and the broker's own inter-broker connections), PLAIN for the controller, ACLs.

    The controller listener cannot use SCRAM: SCRAM users live in the metadata log, which is what this
    listener carries, so the controller authenticates with a static PLAIN user of its JAAS line instead.
    """
    scram = c.kafka_mechanism.lower()
    password, cpassword = c.kafka_password.get_secret_value(), c.controller_password.get_secret_value()
    return {
        "listeners": f"SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
        "advertised.listeners": f"SASL_PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "SASL_PLAINTEXT",
        "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        "listener.name.sasl_plaintext.sasl.enabled.mechanisms": c.kafka_mechanism,
        "sasl.mechanism.inter.broker.protocol": c.kafka_mechanism,
        f"listener.name.sasl_plaintext.{scram}.sasl.jaas.config":
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{c.kafka_username}" password="{password}";',
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config":
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'username="{c.controller_username}" password="{cpassword}" user_{c.controller_username}="{cpassword}";',
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        # headwater: the worker, connectors and CLI administer their own topics and groups.
        # controller: the broker half of this process registers, heartbeats and forwards admin requests
        # over the controller listener, which needs CLUSTER_ACTION on the cluster. An ACL cannot grant it
        # on a new cluster: ACLs are created through a registered broker, and registering is the very
        # request that needs it. Only this process knows that user's password (server.properties, mode
        # 0600), and the listener binds 127.0.0.1; PLAINTEXT there would make ANONYMOUS that super user.
        "super.users": f"User:{c.kafka_username};User:{c.controller_username}",
    }
