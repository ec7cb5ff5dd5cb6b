package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// k8sObject is the part of a Kubernetes object the deployment check reads.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Selector yaml.Node `yaml:"selector"`
		Ports    []struct {
			Port int `yaml:"port"`
		} `yaml:"ports"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type podSpec struct {
	Containers []struct {
		Name      string   `yaml:"name"`
		Image     string   `yaml:"image"`
		Command   []string `yaml:"command"`
		Args      []string `yaml:"args"`
		Resources struct {
			Limits map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name string `yaml:"name"`
	} `yaml:"volumes"`
}

// TestDeployManifest checks deploy/kubernetes.yaml as YAML and against
// this program: every document is a named Kubernetes object, the worker
// and front end arguments parse as gen worker / gen serve flags, workers
// ask for one GPU each, both reach NATS through its Service, NATS runs
// JetStream on a volume, every mount has its volume, and each Service
// selects pods that exist.
func TestDeployManifest(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "kubernetes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	objects := map[string]k8sObject{}
	podLabels := map[string]map[string]string{}
	for {
		var o k8sObject
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("document %d: %v", len(objects)+1, err)
		}
		if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
			t.Fatalf("document %d lacks apiVersion, kind or metadata.name: %+v", len(objects)+1, o)
		}
		objects[o.Kind+"/"+o.Metadata.Name] = o
		if len(o.Spec.Template.Spec.Containers) > 0 {
			podLabels[o.Metadata.Name] = o.Spec.Template.Metadata.Labels
			checkMounts(t, o)
		}
	}
	nats, ok := objects["StatefulSet/nats"]
	if !ok {
		t.Fatal("no StatefulSet nats")
	}
	natsArgs := strings.Join(nats.Spec.Template.Spec.Containers[0].Args, " ")
	if !strings.Contains(natsArgs, "--jetstream") || !strings.Contains(natsArgs, "--store_dir /data") {
		t.Errorf("NATS runs without JetStream file storage: %s", natsArgs)
	}
	if svc, ok := objects["Service/nats"]; !ok || len(svc.Spec.Ports) == 0 || svc.Spec.Ports[0].Port != 4222 {
		t.Errorf("no Service nats on port 4222")
	}

	worker, ok := objects["Deployment/gosdxl-worker"]
	if !ok {
		t.Fatal("no Deployment gosdxl-worker")
	}
	wc := worker.Spec.Template.Spec.Containers[0]
	if wc.Resources.Limits["nvidia.com/gpu"] != "1" {
		t.Errorf("worker GPU limit %q, want 1", wc.Resources.Limits["nvidia.com/gpu"])
	}
	if len(wc.Args) == 0 || wc.Args[0] != "worker" {
		t.Fatalf("worker args %q", wc.Args)
	}
	wo, err := parseWorkerOptions(wc.Args[1:])
	if err != nil {
		t.Fatalf("worker args: %v", err)
	}
	if wo.queue != "nats://nats:4222" || wo.device != "cuda" {
		t.Errorf("worker queue %q device %q", wo.queue, wo.device)
	}

	front, ok := objects["Deployment/gosdxl-frontend"]
	if !ok {
		t.Fatal("no Deployment gosdxl-frontend")
	}
	fc := front.Spec.Template.Spec.Containers[0]
	if len(fc.Args) == 0 || fc.Args[0] != "serve" {
		t.Fatalf("front end args %q", fc.Args)
	}
	// The key file is a mounted secret; parse with a stand-in.
	args := append([]string(nil), fc.Args[1:]...)
	keyFile := filepath.Join(t.TempDir(), "api-key")
	os.WriteFile(keyFile, []byte("k"), 0o600)
	for i := range args {
		if i > 0 && args[i-1] == "--api-key-file" {
			if _, ok := objects["Secret/gosdxl-api-key"]; !ok || !mountedUnder(fc.VolumeMounts, filepath.Dir(args[i])) {
				t.Errorf("--api-key-file %s is not on a mounted secret", args[i])
			}
			args[i] = keyFile
		}
	}
	so, err := parseServeOptions(args)
	if err != nil {
		t.Fatalf("front end args: %v", err)
	}
	if so.queue != wo.queue || filepath.Base(wo.model) != so.model {
		t.Errorf("front end queue %q model %q; workers %q model %q: jobs would not reach them", so.queue, so.model, wo.queue, wo.model)
	}
	for name, o := range objects {
		if o.Kind != "Service" {
			continue
		}
		var sel map[string]string
		o.Spec.Selector.Decode(&sel)
		found := false
		for _, labels := range podLabels {
			match := len(sel) > 0
			for k, v := range sel {
				match = match && labels[k] == v
			}
			found = found || match
		}
		if !found {
			t.Errorf("%s selects no pods (%v)", name, sel)
		}
	}
}

func mountedUnder(mounts []struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
}, dir string) bool {
	for _, m := range mounts {
		if m.MountPath == dir {
			return true
		}
	}
	return false
}

func checkMounts(t *testing.T, o k8sObject) {
	t.Helper()
	volumes := map[string]bool{}
	for _, v := range o.Spec.Template.Spec.Volumes {
		volumes[v.Name] = true
	}
	for _, c := range o.Spec.Template.Spec.Containers {
		if c.Image == "" {
			t.Errorf("%s/%s: container %s has no image", o.Kind, o.Metadata.Name, c.Name)
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] && o.Kind != "StatefulSet" {
				t.Errorf("%s/%s: mount %s has no volume", o.Kind, o.Metadata.Name, m.Name)
			}
		}
	}
}
