# gosdxl — everyday targets. `make test` is what CI runs; nothing here needs a GPU.
GO ?= go

.PHONY: build test lint fuzz ptx kernels-check kernels-emulate cuda-compile gpu-bundle bench fake-cuda test-cuda-emulated

build:
	$(GO) build ./...

# The CPU backend runs strict (NaN-filled allocations, panics on lifetime
# errors, leak checks): GOSDXL_CPU_STRICT=1, also the default under go test.
test:
	GOSDXL_CPU_STRICT=1 $(GO) test ./...

# gen's flag parsing and --from metadata parsing, a minute each: no input
# may panic, every refusal must be a one-line usage error.
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./cmd/gen -run '^$$' -fuzz '^FuzzParseOptions$$' -fuzztime $(FUZZTIME)
	$(GO) test ./cmd/gen -run '^$$' -fuzz '^FuzzFromParameters$$' -fuzztime $(FUZZTIME)

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# Kernels: .cu -> committed PTX, gzipped (needs nvcc, see scripts/install-cuda.sh).
ptx:
	bash scripts/ptx.sh build

# Verifies PTX hashes against their sources and assembles every PTX for
# sm_80 and sm_90 with ptxas, failing on register spills or local memory
# (first checking, with stand-in tools, that the check reports each problem).
kernels-check:
	bash scripts/ptx-check-test.sh
	bash scripts/ptx.sh check

# Runs the fast kernels' real CUDA sources on the CPU against an emulation of
# the tensor-core instructions (kernels/emulator/README.md): no GPU needed.
kernels-emulate:
	bash scripts/kernels-emulate.sh

# The emulated CUDA driver (kernels/emulator/driver/README.md): a libcuda.so.1
# that runs the kernels' real sources on the CPU, into kernels/emulator/build/.
fake-cuda:
	bash scripts/fake-cuda.sh

# Runs every -tags cuda test and `gen --device cuda` on the emulated driver:
# the whole CUDA backend executes without a GPU (reduced sizes, logged).
test-cuda-emulated: fake-cuda
	bash scripts/test-cuda-emulated.sh

# Compiles (does not run: that needs a GPU) all -tags cuda code and tests.
cuda-compile:
	$(GO) vet -tags cuda ./...
	$(GO) test -tags cuda -count=1 -exec /bin/true ./...

# Everything a GPU host without Go needs, in gpu-bundle/ (git-ignored).
gpu-bundle:
	bash scripts/gpu-bundle.sh

# Benchmarks measure the CPU backend as gen runs it, not its strict mode.
bench:
	GOSDXL_CPU_STRICT=0 $(GO) test -run '^$$' -bench . -benchtime 1x ./...
