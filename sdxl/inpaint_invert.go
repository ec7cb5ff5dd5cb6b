package sdxl

import "image"

// InvertMask is A1111's inpainting_mask_invert ("Inpaint not masked"):
// the mask read by its binary rule, then inverted, so that what it left
// alone is repainted.
func InvertMask(mask image.Image) *image.Gray {
	m := binaryMask(mask)
	g := image.NewGray(image.Rect(0, 0, m.w, m.h))
	for i, v := range m.pix {
		g.Pix[i] = 255 - v
	}
	return g
}
