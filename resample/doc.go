// Package resample resizes images and latents the way the tools gosdxl is
// compared with do it, so that a hires-fix or an inpainting crop gives the
// same numbers:
//
//   - Interpolate is torch.nn.functional.interpolate on float32 NCHW planes
//     (align_corners=False): modes nearest, nearest-exact, bilinear and
//     bicubic (A = −0.75), and the antialiased bilinear/bicubic variants
//     (PIL-style filters with support widened by the downscale factor,
//     bicubic with A = −0.5), the modes A1111's "Latent" upscalers name.
//   - Resize8 is PIL's Image.resize on 8-bit images for the NEAREST and
//     LANCZOS filters (Lanczos-3, support scaled by the downscale factor,
//     22-bit fixed-point coefficients, horizontal pass first through an
//     8-bit intermediate), the pixel upscalers A1111 calls "Nearest" and
//     "Lanczos".
//   - GaussianBlur8 is the mask blur of A1111's inpainting (OpenCV's
//     GaussianBlur with a kernel of 2·int(2.5σ+0.5)+1 taps).
package resample
