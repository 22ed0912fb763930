#!/usr/bin/env bash
# What the construct's package tests need (test/construct/cdk8s-apps.test.ts, helm-chart.test.ts): Python 3.10+
# with venv and pip for the Python app (the tests make build/python-venv themselves), a JDK and Maven for the Java
# app, Go (15-go.sh) for the Go app, and helm, built from the Go module proxy into the project's cache by
# scripts/helm.sh. jsii and jsii-pacmak are npm dev dependencies.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
. "$here/lib.sh"
if ! python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  ensure_packages python3 python3-venv python3-pip
fi
if ! command -v mvn >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then
  ensure_packages default-jdk-headless maven
fi
bash "$here/helm.sh" >/dev/null
