#!/usr/bin/env bash
# `npm run package`: compiles the construct library (lib/, a jsii package) and writes its packages into
# build/packages/, one folder per language as jsii-pacmak lays them out:
#   js/      asm-web-service@VERSION.jsii.tgz (the npm package: CommonJS, .d.ts, the .jsii assembly)
#   python/  asm_web_service-VERSION-py3-none-any.whl and the sdist
#   java/    the Maven project (pom.xml, sources), generated but not built: see below
#   go/      the Go module source (asmwebservice/), generated but not built: see below
# Java and Go are generated with --code-only: their builds need cdk8s-plus-28's Maven artifact and the cdk8s Go
# modules (github.com/cdk8s-team/...), which the registries this project's machines reach do not serve.
# PACKAGE_TARGETS (default "js python java go") picks the languages. pip and Maven caches go under the project's
# cache folder. Nothing is published: see README.md "Publishing" for the commands.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cluster/versions.sh

targets="${PACKAGE_TARGETS:-js python java go}"
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$CLUSTER_CACHE_ROOT/pip}"
outdir=build/packages
start=$SECONDS

# `npm run build:lib` (jsii): lib/*.ts -> lib/build/*.js (CommonJS) and *.d.ts, and lib/.jsii (the assembly every
# language loads). Any warning on the API fails it, but one: 'namespace' is a reserved word only in C#, which this project
# does not target.
npm run --silent build:lib
echo "jsii: $((SECONDS - start)) s" >&2

built=() generated=()
for target in $targets; do
  case "$target" in
    js | python) built+=(--targets "$target") ;;
    java | go) generated+=(--targets "$target") ;;
    *) echo "unknown PACKAGE_TARGETS entry '$target' (js, python, java, go)" >&2; exit 2 ;;
  esac
done
# --no-npmignore: lib/package.json's "files" lists what the tarball holds.
if [ ${#built[@]} -gt 0 ]; then
  step_start=$SECONDS
  jsii-pacmak lib --outdir "$outdir" --no-npmignore "${built[@]}"
  echo "jsii-pacmak ${built[*]//--targets /}: $((SECONDS - step_start)) s" >&2
fi
if [ ${#generated[@]} -gt 0 ]; then
  step_start=$SECONDS
  jsii-pacmak lib --outdir "$outdir" --no-npmignore --code-only "${generated[@]}"
  echo "jsii-pacmak --code-only ${generated[*]//--targets /}: $((SECONDS - step_start)) s" >&2
fi
echo "packages in $outdir ($((SECONDS - start)) s):" >&2
find "$outdir" -maxdepth 2 -type f \( -name '*.tgz' -o -name '*.whl' -o -name '*.tar.gz' -o -name pom.xml -o -name go.mod \) \
  -printf '  %p %s B\n' | sort >&2
