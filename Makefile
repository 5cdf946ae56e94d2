# movement-lake: every target installs what it needs itself.
#   make run    - the local demo: generate an export, run the whole workflow, query the lake
#   make test   - the full test suite (unit, Spark, CDK infra, local end-to-end)

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CDK := node_modules/.bin/cdk
# Tools whose pins conflict with the project's (checkov) live in a virtualenv of their own,
# pinned in pyproject.toml's `tools` dependency group. The stamp is named after those pins, so the
# tool venv is re-installed only when they change.
TOOLS_VENV := .venv-tools
TOOLS_PINS := $(shell sed -n '/^tools = \[/,/\]/p' pyproject.toml | cksum | cut -d' ' -f1)
TOOLS_STAMP := $(TOOLS_VENV)/.installed-$(TOOLS_PINS)
CHECKOV := $(TOOLS_VENV)/bin/checkov
# What the local runtime's JVM uses when it is there (lake/aws/spark.py), built into the venv:
# the Hadoop file system without a `chmod` process per file it writes (lake/aws/java, compiled
# against pyspark's jars) and the archive of the classes a first upload loads (AppCDS).
LAKE_SHARE := $(VENV)/share/movement-lake
LOCAL_FS_JAVA := lake/aws/java/movementlake/NioLocalFileSystem.java
LOCAL_FS_JAR := $(LAKE_SHARE)/local-fs.jar
CLASS_ARCHIVE := $(LAKE_SHARE)/classes.jsa
JVM_BUILT := $(LOCAL_FS_JAR) $(CLASS_ARCHIVE)

# jsii (under aws-cdk-lib) warns loudly about Node versions it has not tested; the warning is noise here.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_KNOWN_BROKEN_NODE_VERSION := 1
# (this one takes the Node major versions to silence)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 18,20
export PYSPARK_PYTHON := $(abspath $(BIN)/python)

.PHONY: run test tools lint format bench bench-quick synth bootstrap deploy destroy backfill check-java check-node clean

run: $(STAMP) $(JVM_BUILT) check-java
	$(BIN)/lake demo

# The tool venv too: tests/infra runs checkov on the synthesized template.
test: $(STAMP) $(JVM_BUILT) $(NODE_STAMP) $(TOOLS_STAMP) check-java check-node
	$(BIN)/pytest $(PYTEST_ARGS)

tools: $(TOOLS_STAMP)

# The template's three checks, each failing on any finding neither fixed nor skipped with a reason:
# cdk-nag's AwsSolutions pack (in `synth`), cfn-lint (fails on errors only: CDK's own output
# carries a few W3005 warnings) and checkov, offline. Skips are listed in the README's "Security".
lint: $(STAMP) $(TOOLS_STAMP) synth
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint --non-zero-exit-code error cdk.out/*.template.json
	$(CHECKOV) --framework cloudformation --skip-download --compact --quiet -f cdk.out/*.template.json

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) $(JVM_BUILT) check-java
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-quick: $(STAMP) $(JVM_BUILT) check-java
	$(BIN)/python -m bench --quick $(BENCH_ARGS)

# Deployment (see the README's "Run it on AWS"). `make synth` needs no AWS credentials; cdk-nag's
# AwsSolutions checks run on every synth, and --strict fails it on any unsuppressed finding
# (warnings included). `make deploy` and
# `make destroy` use the account and region of your AWS credentials (AWS_PROFILE, AWS_REGION);
# run `make bootstrap` once per account and region before the first deploy. Pass CDK context
# with CDK_ARGS, e.g.  make deploy CDK_ARGS="-c alertEmail=you@example.com -c glueNumberOfWorkers=4"
CDK_ARGS ?=

synth: $(STAMP) $(NODE_STAMP) check-node
	$(CDK) synth --quiet --strict $(CDK_ARGS)

bootstrap: $(STAMP) $(NODE_STAMP) check-node
	$(CDK) bootstrap $(CDK_ARGS)

deploy: $(STAMP) $(NODE_STAMP) check-node
	$(CDK) deploy --require-approval broadening $(CDK_ARGS)

# Keeps the buckets (they hold the data); README.md, "Tear down", says how to empty and delete them.
destroy: $(STAMP) $(NODE_STAMP) check-node
	$(CDK) destroy $(CDK_ARGS)

# Re-process a raw-bucket prefix on AWS with the deployed backfill workflow (stack output
# BackfillStateMachineArn; README "Backfill"). Needs the AWS CLI and the deployed stack:
#   make backfill PREFIX=travel_times/bogota/ [ONLY_FAILED=1] [MAX_CONCURRENCY=N] [STACK=name]
# STACK defaults to cdk.json's namePrefix (the stack is named after it).
PREFIX ?=
ONLY_FAILED ?=
MAX_CONCURRENCY ?=
STACK ?=

backfill:
	@test -n "$(PREFIX)" || { echo "ERROR: say what to re-process: make backfill PREFIX=travel_times/<city>/ (or PREFIX=travel_times/ for every city) [ONLY_FAILED=1] [MAX_CONCURRENCY=N]"; exit 1; }
	@command -v aws >/dev/null || { echo "ERROR: the AWS CLI (v2) is needed: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"; exit 1; }
	@input=$$(python3 -c 'import json, sys; prefix, only, most = sys.argv[1:]; options = {"prefix": prefix, "only_failed": only not in ("", "0")}; options.update({"max_concurrency": int(most)} if most else {}); print(json.dumps(options))' "$(PREFIX)" "$(ONLY_FAILED)" "$(MAX_CONCURRENCY)") && \
	stack="$(STACK)" && stack=$${stack:-$$(python3 -c 'import json; print(json.load(open("cdk.json"))["context"].get("namePrefix", "movement-lake"))')} && \
	arn=$$(aws cloudformation describe-stacks --stack-name "$$stack" --query "Stacks[0].Outputs[?OutputKey=='BackfillStateMachineArn'].OutputValue" --output text) && \
	test -n "$$arn" -a "$$arn" != "None" || { echo "ERROR: stack $$stack has no BackfillStateMachineArn output: deploy it first (make deploy)"; exit 1; } ; \
	echo "starting $$arn with $$input" && \
	aws stepfunctions start-execution --state-machine-arn "$$arn" --input "$$input"

# Re-install only when the pins change.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "ERROR: $(PYTHON) not found. Install Python 3.11 (AWS Glue 5.1 runs Python 3.11)."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# Bytecode for the project's own modules (pip compiles only what it installs): every `lake`
	@# command imports about a hundred, 0.2 s of compiling each time where Python may not write
	@# its cache (PYTHONDONTWRITEBYTECODE, as on CI).
	$(BIN)/python -m compileall -q -j 0 contract functions glue lake settings.py
	@touch $@

$(LOCAL_FS_JAR): $(LOCAL_FS_JAVA) $(STAMP)
	@command -v javac >/dev/null || { echo "ERROR: javac not found. Install a JDK 17 (e.g. 'apt-get install openjdk-17-jdk-headless'), not only its runtime."; exit 1; }
	@rm -rf $(LAKE_SHARE)/local-fs && mkdir -p $(LAKE_SHARE)/local-fs
	javac --release 17 -nowarn -d $(LAKE_SHARE)/local-fs -cp "$$($(BIN)/python -c 'import pathlib, pyspark; print(pathlib.Path(pyspark.__file__).parent / "jars")')/*" $(LOCAL_FS_JAVA)
	jar cf $@ -C $(LAKE_SHARE)/local-fs .

# About a minute, once: a small upload in a scratch home, in a JVM that archives its classes.
$(CLASS_ARCHIVE): $(LOCAL_FS_JAR) $(STAMP) lake/runtime/class_archive.py
	@$(MAKE) --no-print-directory check-java
	$(BIN)/python -m lake.runtime.class_archive $@ > $(LAKE_SHARE)/class-archive.log 2>&1 || { tail -20 $(LAKE_SHARE)/class-archive.log; exit 1; }
	@tail -1 $(LAKE_SHARE)/class-archive.log

$(TOOLS_STAMP):
	@command -v $(PYTHON) >/dev/null || { echo "ERROR: $(PYTHON) not found. Install Python 3.11."; exit 1; }
	@test -x $(TOOLS_VENV)/bin/python || $(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS_VENV)/bin/python -m pip install --quiet --group tools
	@rm -f $(TOOLS_VENV)/.installed-*
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@$(MAKE) --no-print-directory check-node
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

check-java:
	@command -v java >/dev/null || { echo "ERROR: Java not found. Spark 3.5 (as on AWS Glue 5.1) needs Java 17: install a JDK 17 (e.g. 'apt-get install openjdk-17-jdk-headless') and set JAVA_HOME."; exit 1; }
	@java -version 2>&1 | head -1 | grep -q '"17\.' || { echo "ERROR: Java 17 is required (AWS Glue 5.1 runs Java 17), found: $$(java -version 2>&1 | head -1). Install JDK 17 and put it first on PATH or set JAVA_HOME."; exit 1; }

check-node:
	@command -v node >/dev/null || { echo "ERROR: Node.js not found. The AWS CDK needs Node 18 or newer: install it (e.g. 'apt-get install nodejs npm')."; exit 1; }

clean:
	rm -rf $(VENV) $(TOOLS_VENV) node_modules cdk.out .lake .pytest_cache spark-warehouse metastore_db derby.log
