package weights

import (
	"reflect"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

type dryConv struct {
	Weight *tensor.Tensor `weight:"weight,channels_last"`
	Bias   *tensor.Tensor `weight:"bias,optional"`
}

type dryModel struct {
	Convs  []dryConv      `weight:"convs"`
	Proj   *tensor.Tensor `weight:"proj,transpose"`
	Absent *dryConv       `weight:"absent"` // nil: not declared
	Norm   *tensor.Tensor `weight:"norm"`
}

// A dry run lists what binding would ask for, with the shapes as stored
// (before channels_last or transpose), and leaves the placeholders alone.
func TestDryRunListsStoredShapes(t *testing.T) {
	m := dryModel{
		Convs: []dryConv{{Weight: tensor.Spec(8, 4, 3, 3), Bias: tensor.Spec(8)}, {Weight: tensor.Spec(8, 8, 1, 1)}},
		Proj:  tensor.Spec(6, 10),
		Norm:  tensor.Spec(8),
	}
	spec := m.Proj
	bd := NewDryRun()
	bd.Bind("p.", &m)
	want := Expected{
		"p.convs.0.weight": {Shape: tensor.Shape{8, 4, 3, 3}},
		"p.convs.0.bias":   {Shape: tensor.Shape{8}, Optional: true},
		"p.convs.1.weight": {Shape: tensor.Shape{8, 8, 1, 1}},
		"p.convs.1.bias":   {Optional: true},
		"p.proj":           {Shape: tensor.Shape{6, 10}},
		"p.norm":           {Shape: tensor.Shape{8}},
	}
	if got := bd.Listing(); !reflect.DeepEqual(got, want) {
		t.Errorf("listing %v\nwant %v", got, want)
	}
	if m.Proj != spec || bd.Err() != nil || len(bd.Tensors()) != 0 || bd.Unused() != nil {
		t.Errorf("a dry run changed the model or bound tensors")
	}
}
