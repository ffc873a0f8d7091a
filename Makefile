.PHONY: run test

# Run the app at http://localhost:3000 (SQLite, local sandboxes).
run:
	bash scripts/run.sh

# Run the whole test suite (SQLite and PostgreSQL, Chromium end to end).
test:
	bash scripts/test.sh
