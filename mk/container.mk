# mk/container.mk: the container image (Dockerfile), the deployment files of
# deploy/ and their tests.
#
#   make container-image   build the image offline as localhost/insights:test
#                          (scripts/container-build.sh) on a Debian 12 base
#                          made by mmdebstrap (scripts/container-base.sh),
#                          cached in build/container/base.tar: delete it to
#                          take Debian's latest updates
#   make test-container    the image's tests (tests/container): user, labels,
#                          no setuid file, read-only run with a /data volume,
#                          data kept across a restart, the HEALTHCHECK
#   make test-deploy       deploy/kubernetes (rendered, validated against the
#                          Kubernetes schemas from npm), deploy/compose.yaml
#                          (docker-compose config) and deploy/insights.service
#                          (systemd-analyze security and verify): tests/deploy
#
# `make test` runs both. It starts building the image in the background
# before its first stage (the build is mostly downloads and copies) and
# test-container, its last stage, waits for it. Needs root, Debian's
# mmdebstrap, podman, runc, docker-compose and python3-yaml
# (scripts/install-deps.sh test).
#
# `insights healthcheck` (the image's HEALTHCHECK; the image has no curl)
# GETs the health URL with libcurl: Debian's libcurl4-openssl-dev
# (scripts/install-deps.sh build). libpq already brings most of what
# libcurl4 needs at run time (Kerberos, LDAP, OpenSSL).

PKGS += libcurl

CONTAINER_DIR := build/container
CONTAINER_BASE_TAR := $(CONTAINER_DIR)/base.tar
CONTAINER_IMAGE := localhost/insights:test
# Set by container-image-start: the background build's pid, exit status, log.
CONTAINER_BG := $(CONTAINER_DIR)/image

$(CONTAINER_BASE_TAR): scripts/container-base.sh
	@mkdir -p $(@D)
	@echo "  MMDEBSTRAP $@ (log: $(CONTAINER_DIR)/base.log)"
	$(Q)scripts/container-base.sh $@ > $(CONTAINER_DIR)/base.log 2>&1 || \
		{ tail -40 $(CONTAINER_DIR)/base.log; exit 1; }

.PHONY: container-image container-image-start container-image-wait test-container test-deploy
container-image: $(CONTAINER_BASE_TAR) $(NPM_STAMP)
	scripts/container-build.sh $(abspath $(CONTAINER_DIR)) $(abspath $(CONTAINER_BASE_TAR)) \
		$(CONTAINER_IMAGE)

# Starts `make container-image` in the background; container-image-wait
# waits for it, or builds the image when no build was started.
container-image-start:
	@mkdir -p $(CONTAINER_DIR)
	@rm -f $(CONTAINER_BG).rc
	@( $(MAKE) --no-print-directory container-image > $(CONTAINER_BG).log 2>&1; \
	   echo $$? > $(CONTAINER_BG).rc ) < /dev/null > /dev/null 2>&1 & echo $$! > $(CONTAINER_BG).pid
	@echo "make test: building the container image in the background ($(CONTAINER_BG).log)"

container-image-wait:
	@if [ -f $(CONTAINER_BG).pid ]; then \
	  pid=$$(cat $(CONTAINER_BG).pid); rm -f $(CONTAINER_BG).pid; \
	  while kill -0 $$pid 2>/dev/null && [ ! -f $(CONTAINER_BG).rc ]; do sleep 1; done; \
	  rc=$$(cat $(CONTAINER_BG).rc 2>/dev/null || echo 1); \
	  if [ "$$rc" != 0 ]; then tail -40 $(CONTAINER_BG).log; \
	    echo "container-image: the background build failed ($(CONTAINER_BG).log)" >&2; exit 1; fi; \
	  tail -1 $(CONTAINER_BG).log; \
	else $(MAKE) --no-print-directory container-image; fi

TEST_BACKGROUND += container-image-start
TEST_LAST += test-container
TEST_EXTRA += test-deploy

test-container: container-image-wait
	CONTAINER_DIR=$(abspath $(CONTAINER_DIR)) CONTAINER_IMAGE=$(CONTAINER_IMAGE) \
		$(PYTHON) -m pytest -q -p no:cacheprovider tests/container

test-deploy: $(BUILD)/insights $(NPM_STAMP)
	INSIGHTS_BIN=$(abspath $(BUILD)/insights) $(PYTHON) -m pytest -q -p no:cacheprovider tests/deploy
