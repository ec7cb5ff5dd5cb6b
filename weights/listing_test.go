package weights_test

import (
	"github.com/gosdxl/gosdxl/sdxl"
	"github.com/gosdxl/gosdxl/weights"
)

func init() { weights.ExpectedTensorsOf = sdxl.ExpectedTensors }
