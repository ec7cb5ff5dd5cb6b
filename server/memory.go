package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// GET /sdapi/v1/memory answers in A1111's shape:
//
//	{"ram":  {"free", "used", "total"},
//	 "cuda": {"system": {"free", "used", "total"},
//	          "active", "allocated", "reserved", "inactive": {"current", "peak"},
//	          "events": {"retries", "oom"}}}
//
// in bytes, each part replaced by {"error": "..."} when it cannot be known,
// as A1111 does. What each number is here:
//
//   - ram: the machine's memory from /proc/meminfo: total is MemTotal,
//     free is MemAvailable, used the difference. (A1111's "used" is its
//     own process's resident size.)
//   - cuda.system: the driver's view of the whole GPU (cuMemGetInfo),
//     other processes included.
//   - cuda.reserved: what gosdxl's allocator holds from the driver: the
//     weights, the tensors' blocks and the idle blocks kept for reuse
//     (PyTorch's reserved bytes); peak since the process started.
//   - cuda.active and cuda.allocated: the part of reserved handed to
//     tensors and weights. Both are the same number: the allocator counts
//     whole blocks and does not keep the bytes each tensor asked for.
//   - cuda.inactive: PyTorch's inactive split blocks, the unusable rest of
//     a split block. gosdxl's allocator never splits a block: always 0.
//     Its idle blocks, what POST /free releases, are reserved − allocated.
//   - cuda.events: requests the driver refused until idle blocks were
//     released (retries), and those that failed even then (oom).
//
// On the CPU backend cuda is {"error": "unavailable: ..."}; with --queue
// the models run in the workers' processes and cuda says so.
type memoryResponse struct {
	RAM  any `json:"ram"`
	CUDA any `json:"cuda"`
}

type memoryTotals struct {
	Free  int64 `json:"free"`
	Used  int64 `json:"used"`
	Total int64 `json:"total"`
}

type currentPeak struct {
	Current int64 `json:"current"`
	Peak    int64 `json:"peak"`
}

type cudaMemory struct {
	System    memoryTotals `json:"system"`
	Active    currentPeak  `json:"active"`
	Allocated currentPeak  `json:"allocated"`
	Reserved  currentPeak  `json:"reserved"`
	Inactive  currentPeak  `json:"inactive"`
	Events    struct {
		Retries int64 `json:"retries"`
		OOM     int64 `json:"oom"`
	} `json:"events"`
}

type memoryError struct {
	Error string `json:"error"`
}

func (s *Server) handleMemory(w http.ResponseWriter, r *http.Request) {
	resp := memoryResponse{RAM: hostMemory(), CUDA: memoryError{"unavailable: the models run in gen worker processes (--queue)"}}
	if mm, ok := s.cfg.Runner.(MemoryManager); ok {
		resp.CUDA = deviceMemory(mm)
	}
	writeJSON(w, http.StatusOK, resp)
}

func deviceMemory(mm MemoryManager) any {
	m, ok, err := mm.DeviceMemory()
	switch {
	case err != nil:
		return memoryError{err.Error()}
	case !ok:
		return memoryError{"unavailable: the model runs on the CPU backend"}
	}
	c := cudaMemory{
		System:    memoryTotals{Free: m.Free, Used: m.Total - m.Free, Total: m.Total},
		Active:    currentPeak{m.InUse, m.PeakInUse},
		Allocated: currentPeak{m.InUse, m.PeakInUse},
		Reserved:  currentPeak{m.Held, m.PeakHeld},
	}
	c.Events.Retries, c.Events.OOM = m.AllocRetries, m.OOMs
	return c
}

// hostMemory reads the machine's memory from /proc/meminfo.
func hostMemory() any {
	raw, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return memoryError{fmt.Sprintf("system memory unknown: %v", err)}
	}
	total, available, err := parseMeminfo(raw)
	if err != nil {
		return memoryError{fmt.Sprintf("system memory unknown: /proc/meminfo: %v", err)}
	}
	return memoryTotals{Free: available, Used: total - available, Total: total}
}

// parseMeminfo returns MemTotal and MemAvailable in bytes.
func parseMeminfo(raw []byte) (total, available int64, err error) {
	fields := map[string]*int64{"MemTotal": &total, "MemAvailable": &available}
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		dst := fields[name]
		if !ok || dst == nil {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %v", name, err)
		}
		*dst = kb << 10
		found++
	}
	if found < len(fields) {
		return 0, 0, errors.New("no MemTotal or MemAvailable line")
	}
	return total, available, nil
}

// freeRequest is POST /free's body, ComfyUI's convention (A1111 has no
// such endpoint): {"free_memory": true} releases the device memory kept
// for reuse. unload_models, which ComfyUI also takes, is refused: the
// server serves its one model and keeps it loaded.
type freeRequest struct {
	FreeMemory   bool `json:"free_memory"`
	UnloadModels bool `json:"unload_models"`
}

// freeResponse says what POST /free did. freed_bytes is what went back to
// the driver; deferred is true when a job was running: the release then
// happens as it ends.
type freeResponse struct {
	FreedBytes int64 `json:"freed_bytes"`
	Deferred   bool  `json:"deferred"`
}

func (s *Server) handleFree(w http.ResponseWriter, r *http.Request) {
	var req freeRequest
	unknown, err := decodeJSON(r, 1<<16, &req)
	if err != nil {
		writeError(w, err)
		return
	}
	if len(unknown) > 0 {
		writeError(w, errorf(http.StatusUnprocessableEntity, "field %q: POST /free takes free_memory and unload_models only", unknown[0]))
		return
	}
	if req.UnloadModels {
		writeError(w, errorf(http.StatusUnprocessableEntity, "field \"unload_models\": not supported: the server keeps its one model loaded (free_memory releases the memory it keeps for reuse)"))
		return
	}
	var resp freeResponse
	if req.FreeMemory {
		mm, ok := s.cfg.Runner.(MemoryManager)
		if !ok {
			writeError(w, errorf(http.StatusNotImplemented, "free_memory: the models run in gen worker processes (--queue); their memory is theirs to release"))
			return
		}
		resp.FreedBytes, resp.Deferred, err = mm.ReleaseCachedMemory()
		if err != nil {
			writeError(w, err)
			return
		}
		if resp.FreedBytes > 0 {
			s.log.Info("released idle device memory", "bytes", resp.FreedBytes)
		}
	}
	writeJSON(w, http.StatusOK, resp)
}
