# NearCAIPI — every task a person or CI needs, from a fresh clone on Debian with Swift.
#   make run    set up, build, and run the main job on the bundled sample data
#   make test   set up, build, and run every test (what CI runs)
#   make bench  speed figures of this machine (see Docs/Benchmarks.md)

SWIFT    ?= swift
RUN_DIR  := .run
# The system C libraries the C shims wrap; tmux and libsixel-bin (sixel2png, img2sixel) for
# the terminal tests and benchmarks; time (peak memory) for make scale.
PACKAGES := libncurses-dev libpng-dev libjpeg-dev libopenblas-dev libdnnl-dev libsqlite3-dev libpq-dev postgresql tmux libsixel-bin time

.PHONY: simulate setup build debug test torture scale run bench sample clean

## Installs the missing Debian packages; silent when everything is there.
setup:
	@missing=""; \
	if ! command -v dpkg-query >/dev/null 2>&1; then \
	  echo "make setup: this is not a Debian system (no dpkg-query); install the -dev packages of: $(PACKAGES)"; exit 1; \
	fi; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; \
	  else echo "make setup: missing Debian packages:$$missing"; \
	       echo "make setup: cannot install them (not root, and no password-less sudo). As root run:"; \
	       echo "    apt-get update && apt-get install -y$$missing"; exit 1; fi; \
	  echo "make setup: installing$$missing"; \
	  $$sudo apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq$$missing >/dev/null || \
	    { echo "make setup: apt-get install failed for:$$missing"; exit 1; }; \
	fi

## Release build (what `make run` and `make bench` use).
build: setup
	$(SWIFT) build -c release

## Everything CI checks: the debug build, then every test on each backend (oneDNN, the
## default, and the OpenBLAS reference).
## GOMP_SPINCOUNT: the test runner gets the OpenMP spin count the nearcaipi executable sets
## for itself (see DNNL.preferredSpinCount), as its tests run many passes side by side.
test: setup
	$(SWIFT) build --build-tests
	GOMP_SPINCOUNT=2000 NEARCAIPI_BACKEND=onednn $(SWIFT) test
	GOMP_SPINCOUNT=2000 NEARCAIPI_BACKEND=openblas $(SWIFT) test

## The long form of the reliability tests: thousands of mutated image files and checkpoints,
## over a hundred kills of a working expert, twenty of the screens, then make scale
## (see Docs/Reliability.md; about 30 minutes the first time, as scale generates its data).
torture: setup
	$(SWIFT) build --build-tests
	NEARCAIPI_TORTURE=1 $(SWIFT) test --filter 'Hostile|KillAnywhere|SeveralInspectors|killedScreens'
	$(MAKE) --no-print-directory scale

NEARCAIPI := .build/release/nearcaipi
WORKSPACE := $(RUN_DIR)/weld-workspace

## The sample workspace, created and trained the first time: round 0 learns synthetic defects
## on the sample's own parts, no label read (3 min on 2 idle cores), and the first round
## fine-tunes it on the 60 labelled parts (26 s), so the screens open on a model that is not
## blind (Docs/Pretraining.md). The target is the first round's checkpoint, so a run
## interrupted while pretraining resumes it next time, and one interrupted while training
## trains again, instead of leaving a workspace without a model.
SAMPLE_ROUND := $(WORKSPACE)/models/round-001.safetensors
$(SAMPLE_ROUND): | build
	@mkdir -p $(RUN_DIR)
	@[ -f $(WORKSPACE)/workspace.sqlite ] || $(NEARCAIPI) init $(WORKSPACE) --data SampleData/weld
	@[ -f $(WORKSPACE)/models/round-000.safetensors ] || $(NEARCAIPI) pretrain $(WORKSPACE)
	$(NEARCAIPI) train $(WORKSPACE)

## Memory and times with 10 000 pool images and with 1 000 images at 1600x1200 (about an
## hour, several GB under .run/scale); see Docs/Reliability.md.
scale: build
	sh Tests/Scale/scale.sh

## The main job: the labelling screens on the sample workspace, as operator (every screen).
## Without a terminal (CI, a pipe): the workspace's status and three InvRISE heatmaps.
run: build $(SAMPLE_ROUND)
	@if [ -t 0 ] && [ -t 1 ]; then \
	  $(NEARCAIPI) label $(WORKSPACE) --role operator; \
	else \
	  echo "make run: no terminal on standard input/output, so the labelling screens cannot start;"; \
	  echo "showing the workspace and three InvRISE heatmaps instead."; \
	  $(NEARCAIPI) status $(WORKSPACE) && \
	  $(NEARCAIPI) explain $(WORKSPACE) SampleData/weld/nok/weld_0004.png SampleData/weld/nok/weld_0005.png SampleData/weld/ok/weld_0001.png \
	    --out $(RUN_DIR)/heatmaps; \
	fi

## The paper's strategy comparison (Tables 2-3) on the bundled weld data; see Docs/Benchmarks.md.
simulate: build
	$(NEARCAIPI) simulate --data SampleData/weld --out $(RUN_DIR)/simulation

## Speed figures; the screens are timed on a copy of the sample workspace.
bench: build $(SAMPLE_ROUND)
	$(NEARCAIPI) bench --workspace $(WORKSPACE)

## Regenerates SampleData/ (byte-identical unless the generator changed).
sample: build
	$(SWIFT) run -c release --skip-build nearcaipi sample --out SampleData/weld --family weld --count 200 --force
	$(SWIFT) run -c release --skip-build nearcaipi sample --out SampleData/cast --family cast --count 200 --force

clean:
	rm -rf .build $(RUN_DIR)
