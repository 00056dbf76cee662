#ifndef EPROP_CPU_H
#define EPROP_CPU_H

/* Internal to libeprop (hidden): what the running CPU can execute. */

/* 1 if the CPU has AVX2 and FMA (x86-64: Haswell, 2013, and later), else 0. */
__attribute__((visibility("hidden"))) int epropcpu_has_avx2_fma(void);

/* 1 if the CPU has AVX-512 F, CD, BW, DQ and VL (x86-64 Skylake-SP, 2017, and later), and
 * the operating system saves its registers, else 0: the EpropWide kernel's instructions. */
__attribute__((visibility("hidden"))) int epropcpu_has_avx512(void);

#endif
