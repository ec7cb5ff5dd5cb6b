//go:build amd64

#include "textflag.h"

// Constants of the vectorised exp, each repeated in 8 lanes so that it can
// be a 256-bit memory operand.
// the smallest exponent argument: e^-87 ≈ 1.6e-38
DATA expMin<>+0(SB)/4, $0xc2ae0000
DATA expMin<>+4(SB)/4, $0xc2ae0000
DATA expMin<>+8(SB)/4, $0xc2ae0000
DATA expMin<>+12(SB)/4, $0xc2ae0000
DATA expMin<>+16(SB)/4, $0xc2ae0000
DATA expMin<>+20(SB)/4, $0xc2ae0000
DATA expMin<>+24(SB)/4, $0xc2ae0000
DATA expMin<>+28(SB)/4, $0xc2ae0000
GLOBL expMin<>(SB), RODATA|NOPTR, $32
// log2(e)
DATA expLog2e<>+0(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+4(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+8(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+12(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+16(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+20(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+24(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL expLog2e<>(SB), RODATA|NOPTR, $32
// ln 2, high part (k·ln2Hi is exact)
DATA expLn2Hi<>+0(SB)/4, $0x3f317200
DATA expLn2Hi<>+4(SB)/4, $0x3f317200
DATA expLn2Hi<>+8(SB)/4, $0x3f317200
DATA expLn2Hi<>+12(SB)/4, $0x3f317200
DATA expLn2Hi<>+16(SB)/4, $0x3f317200
DATA expLn2Hi<>+20(SB)/4, $0x3f317200
DATA expLn2Hi<>+24(SB)/4, $0x3f317200
DATA expLn2Hi<>+28(SB)/4, $0x3f317200
GLOBL expLn2Hi<>(SB), RODATA|NOPTR, $32
// ln 2, low part
DATA expLn2Lo<>+0(SB)/4, $0x35bfbe8e
DATA expLn2Lo<>+4(SB)/4, $0x35bfbe8e
DATA expLn2Lo<>+8(SB)/4, $0x35bfbe8e
DATA expLn2Lo<>+12(SB)/4, $0x35bfbe8e
DATA expLn2Lo<>+16(SB)/4, $0x35bfbe8e
DATA expLn2Lo<>+20(SB)/4, $0x35bfbe8e
DATA expLn2Lo<>+24(SB)/4, $0x35bfbe8e
DATA expLn2Lo<>+28(SB)/4, $0x35bfbe8e
GLOBL expLn2Lo<>(SB), RODATA|NOPTR, $32
// 1/6!
DATA expC6<>+0(SB)/4, $0x3ab60b61
DATA expC6<>+4(SB)/4, $0x3ab60b61
DATA expC6<>+8(SB)/4, $0x3ab60b61
DATA expC6<>+12(SB)/4, $0x3ab60b61
DATA expC6<>+16(SB)/4, $0x3ab60b61
DATA expC6<>+20(SB)/4, $0x3ab60b61
DATA expC6<>+24(SB)/4, $0x3ab60b61
DATA expC6<>+28(SB)/4, $0x3ab60b61
GLOBL expC6<>(SB), RODATA|NOPTR, $32
// 1/5!
DATA expC5<>+0(SB)/4, $0x3c088889
DATA expC5<>+4(SB)/4, $0x3c088889
DATA expC5<>+8(SB)/4, $0x3c088889
DATA expC5<>+12(SB)/4, $0x3c088889
DATA expC5<>+16(SB)/4, $0x3c088889
DATA expC5<>+20(SB)/4, $0x3c088889
DATA expC5<>+24(SB)/4, $0x3c088889
DATA expC5<>+28(SB)/4, $0x3c088889
GLOBL expC5<>(SB), RODATA|NOPTR, $32
// 1/4!
DATA expC4<>+0(SB)/4, $0x3d2aaaab
DATA expC4<>+4(SB)/4, $0x3d2aaaab
DATA expC4<>+8(SB)/4, $0x3d2aaaab
DATA expC4<>+12(SB)/4, $0x3d2aaaab
DATA expC4<>+16(SB)/4, $0x3d2aaaab
DATA expC4<>+20(SB)/4, $0x3d2aaaab
DATA expC4<>+24(SB)/4, $0x3d2aaaab
DATA expC4<>+28(SB)/4, $0x3d2aaaab
GLOBL expC4<>(SB), RODATA|NOPTR, $32
// 1/3!
DATA expC3<>+0(SB)/4, $0x3e2aaaab
DATA expC3<>+4(SB)/4, $0x3e2aaaab
DATA expC3<>+8(SB)/4, $0x3e2aaaab
DATA expC3<>+12(SB)/4, $0x3e2aaaab
DATA expC3<>+16(SB)/4, $0x3e2aaaab
DATA expC3<>+20(SB)/4, $0x3e2aaaab
DATA expC3<>+24(SB)/4, $0x3e2aaaab
DATA expC3<>+28(SB)/4, $0x3e2aaaab
GLOBL expC3<>(SB), RODATA|NOPTR, $32
// 1/2!
DATA expC2<>+0(SB)/4, $0x3f000000
DATA expC2<>+4(SB)/4, $0x3f000000
DATA expC2<>+8(SB)/4, $0x3f000000
DATA expC2<>+12(SB)/4, $0x3f000000
DATA expC2<>+16(SB)/4, $0x3f000000
DATA expC2<>+20(SB)/4, $0x3f000000
DATA expC2<>+24(SB)/4, $0x3f000000
DATA expC2<>+28(SB)/4, $0x3f000000
GLOBL expC2<>(SB), RODATA|NOPTR, $32
// 1
DATA expOne<>+0(SB)/4, $0x3f800000
DATA expOne<>+4(SB)/4, $0x3f800000
DATA expOne<>+8(SB)/4, $0x3f800000
DATA expOne<>+12(SB)/4, $0x3f800000
DATA expOne<>+16(SB)/4, $0x3f800000
DATA expOne<>+20(SB)/4, $0x3f800000
DATA expOne<>+24(SB)/4, $0x3f800000
DATA expOne<>+28(SB)/4, $0x3f800000
GLOBL expOne<>(SB), RODATA|NOPTR, $32
// float32 exponent bias (int32 lanes)
DATA expBias<>+0(SB)/4, $0x0000007f
DATA expBias<>+4(SB)/4, $0x0000007f
DATA expBias<>+8(SB)/4, $0x0000007f
DATA expBias<>+12(SB)/4, $0x0000007f
DATA expBias<>+16(SB)/4, $0x0000007f
DATA expBias<>+20(SB)/4, $0x0000007f
DATA expBias<>+24(SB)/4, $0x0000007f
DATA expBias<>+28(SB)/4, $0x0000007f
GLOBL expBias<>(SB), RODATA|NOPTR, $32
// -Inf, the start of a running maximum
DATA negInf<>+0(SB)/4, $0xff800000
DATA negInf<>+4(SB)/4, $0xff800000
DATA negInf<>+8(SB)/4, $0xff800000
DATA negInf<>+12(SB)/4, $0xff800000
DATA negInf<>+16(SB)/4, $0xff800000
DATA negInf<>+20(SB)/4, $0xff800000
DATA negInf<>+24(SB)/4, $0xff800000
DATA negInf<>+28(SB)/4, $0xff800000
GLOBL negInf<>(SB), RODATA|NOPTR, $32

// func expSumAVX2(x *float32, n int, mx, scale float32) float32
//
// For n a multiple of 8: x[i] = exp((x[i]-mx)·scale), returning Σ x[i].
// Same method as exp32 (exp.go): x = k·ln2 + r, degree-6 polynomial in r,
// 2^k built in the exponent bits. Arguments below -87 are clamped there.
TEXT ·expSumAVX2(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS mx+16(FP), Y0
	VBROADCASTSS scale+20(FP), Y1
	VMOVUPS      expMin<>(SB), Y2
	VMOVUPS      expLog2e<>(SB), Y3
	VMOVUPS      expLn2Hi<>(SB), Y4
	VMOVUPS      expLn2Lo<>(SB), Y5
	VMOVUPS      expBias<>(SB), Y6
	VXORPS       Y7, Y7, Y7
	SHRQ         $3, CX
	JZ           expdone

exploop:
	VMOVUPS      (SI), Y8
	VSUBPS       Y0, Y8, Y8
	VMULPS       Y1, Y8, Y8
	VMAXPS       Y2, Y8, Y8
	VMULPS       Y3, Y8, Y9
	VROUNDPS     $0, Y9, Y9
	VFNMADD231PS Y4, Y9, Y8
	VFNMADD231PS Y5, Y9, Y8
	VMOVUPS      expC6<>(SB), Y10
	VFMADD213PS  expC5<>(SB), Y8, Y10
	VFMADD213PS  expC4<>(SB), Y8, Y10
	VFMADD213PS  expC3<>(SB), Y8, Y10
	VFMADD213PS  expC2<>(SB), Y8, Y10
	VFMADD213PS  expOne<>(SB), Y8, Y10
	VFMADD213PS  expOne<>(SB), Y8, Y10
	VCVTPS2DQ    Y9, Y9
	VPADDD       Y6, Y9, Y9
	VPSLLD       $23, Y9, Y9
	VMULPS       Y9, Y10, Y10
	VMOVUPS      Y10, (SI)
	VADDPS       Y10, Y7, Y7
	ADDQ         $32, SI
	DECQ         CX
	JNZ          exploop

expdone:
	VEXTRACTF128 $1, Y7, X8
	VADDPS       X8, X7, X7
	VHADDPS      X7, X7, X7
	VHADDPS      X7, X7, X7
	MOVSS        X7, ret+24(FP)
	VZEROUPPER
	RET

// func maxAVX2(x *float32, n int, lanes *[8]float32)
//
// For n a multiple of 8: the running maximum of each of the 8 lanes.
TEXT ·maxAVX2(SB), NOSPLIT, $0-24
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	MOVQ    lanes+16(FP), DI
	VMOVUPS negInf<>(SB), Y0
	SHRQ    $3, CX
	JZ      maxdone

maxloop:
	VMAXPS  (SI), Y0, Y0
	ADDQ    $32, SI
	DECQ    CX
	JNZ     maxloop

maxdone:
	VMOVUPS Y0, (DI)
	VZEROUPPER
	RET
