#!/usr/bin/env bash
# Installs the Debian packages Tributary's tests need, only when missing:
# the database servers the integration harness starts (mariadb-server,
# postgresql) and the independent clients the tests check our output with
# (kcat, curl, python3-confluent-kafka, python3-requests, python3-avro,
# python3-jsonschema for confluent_kafka's JSON Schema serializers,
# python3-protobuf and protobuf-compiler (protoc) for its Protobuf
# deserializer), and
# the JDK and Maven that run Apache Kafka from Maven Central.
# Runs `apt-get update` once, and only when something has to be installed.
# Uses sudo only when not root. Fails loudly when a package cannot be installed.
set -euo pipefail

required=(mariadb-server postgresql kcat curl python3-confluent-kafka python3-requests python3-avro python3-jsonschema python3-protobuf protobuf-compiler)
optional=() # installed when the distribution has them

# The JDK and Maven fetch and run Apache Kafka for the real-broker tests;
# a JDK or Maven installed outside Debian's packages counts too.
command -v java >/dev/null 2>&1 || required+=(default-jdk-headless)
command -v mvn >/dev/null 2>&1 || required+=(maven)

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: apt-get not found; install these packages yourself: ${required[*]} ${optional[*]}" >&2
	for p in "${required[@]}"; do
		installed "$p" 2>/dev/null || { echo "install-deps: missing $p" >&2; exit 1; }
	done
	exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo -n)
	else
		echo "install-deps: not root and sudo not found" >&2
	fi
fi

missing=()
for p in "${required[@]}"; do
	installed "$p" || missing+=("$p")
done
missing_optional=()
for p in "${optional[@]}"; do
	installed "$p" || missing_optional+=("$p")
done

if [ ${#missing[@]} -eq 0 ] && [ ${#missing_optional[@]} -eq 0 ]; then
	echo "install-deps: all Debian packages present"
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]} ${missing_optional[*]}"
"${SUDO[@]}" apt-get update -qq

# Optional packages: keep only those the package lists know.
for p in "${missing_optional[@]}"; do
	if apt-cache show "$p" >/dev/null 2>&1; then
		missing+=("$p")
	else
		echo "install-deps: $p not available here; skipping it (optional)"
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

for p in "${required[@]}"; do
	if ! installed "$p"; then
		echo "install-deps: FAILED to install $p" >&2
		exit 1
	fi
done
echo "install-deps: done"
