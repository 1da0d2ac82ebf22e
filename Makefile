# auth0me — see README.md. Every target runs from a clean clone with only Go
# and make installed; the tools it needs are fetched through the Go module
# proxy at pinned versions.

GO          ?= go
UPSTREAM    ?= ../shared/auth0/management-api-oas.2026-06-25.json
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHSTAT   ?= golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
FUZZTIME    ?= 60s
OAPI        := github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen

.PHONY: all demo build generate check-generated spec spec-diff test lint bench fuzz e2e

all: test

## demo: run the main job, auth0me demo, on an in-process tenant.
demo:
	$(GO) run ./cmd/auth0me demo

build:
	$(GO) build ./...

## generate: regenerate gen/ from spec/current-user.yaml.
generate:
	$(GO) generate ./gen/...

## check-generated: fail when gen/ does not match what spec/ generates.
check-generated:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	sed "s|^output:.*|output: $$tmp/client.gen.go|" gen/oapi-codegen.yaml > "$$tmp/oapi-codegen.yaml" && \
	(cd gen && $(GO) run $(OAPI) -config "$$tmp/oapi-codegen.yaml" ../spec/current-user.yaml) && \
	$(GO) run ./internal/optable -o "$$tmp/operations.gen.go" spec/current-user.yaml && \
	diff -u gen/client.gen.go "$$tmp/client.gen.go" && \
	diff -u gen/operations.gen.go "$$tmp/operations.gen.go" && \
	echo "check-generated: gen/ matches spec/current-user.yaml"

## spec: rewrite spec/current-user.yaml by trimming UPSTREAM.
spec:
	$(GO) run ./cmd/spectrim -o spec/current-user.yaml $(UPSTREAM)

## spec-diff: report drift between spec/ and trimming UPSTREAM, and the
## policy differences between them. spectrim's exit status says which:
## 0 same, 1 drift, 2 error (see go run ./cmd/spectrim --help); make then
## reports a failed recipe with its own status.
spec-diff:
	$(GO) run ./cmd/spectrim -diff spec/current-user.yaml $(UPSTREAM)

## test: the whole suite with the race detector, then check-generated. The
## proof suites run verbosely into a log so their figures (the differential
## case count) are printed; the whole log is shown when they fail.
test:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /internal/proof$$)
	@log=$$(mktemp) && trap 'rm -f "$$log"' EXIT && \
	if $(GO) test -race -count=1 -v ./internal/proof > "$$log" 2>&1; then \
	  grep -E '^(differential gating|load:|faults:|token leaks:)|^(ok|PASS)' "$$log" || true; \
	else cat "$$log"; exit 1; fi
	$(MAKE) --no-print-directory check-generated

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.gen\.go$$')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) run $(STATICCHECK) ./...

## fuzz: run every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

## bench: side-by-side benchmarks against Auth0's Go SDK (module bench/),
## rewriting bench/RESULTS.md; under 10 minutes on 2 cores.
bench:
	GO=$(GO) ./bench/run.sh

## e2e: Auth0's browser SDKs (auth0-spa-js, auth0-js) and examples/bff sign
## in against auth0me serve in headless Chromium, CORS checks on; installs
## Chromium (apt) and the npm packages of e2e/browser/package-lock.json
## first. Screenshots: e2e/browser/out/.
e2e:
	./e2e/browser/e2e.sh
