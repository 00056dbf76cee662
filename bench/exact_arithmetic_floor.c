/* The arithmetic floor of exact e-prop on this machine: how fast can ANY engine do the
 * eligibility step of eprop_iaf (spec §8.1) with NEST's rounding, on the most favourable
 * data layout there is?
 *
 * One eligibility step of a synapse i -> j at entry t is, in IEEE double precision with
 * every operation rounded on its own (no fused multiply-add: NEST does not fuse):
 *
 *     e      = psi_j[t] * zbar_i[t]
 *     ebar   = kappa * ebar + e
 *     ebarR  = kappaReg * ebarR + (1 - kappaReg) * e
 *     g      = g + (L_j[t] * ebar + reg_j[t] * ebarR)
 *
 * 10 floating-point operations. The kernels here are idealised far beyond what an engine
 * can have: rows of consecutive targets (dense, one vector load per channel and step),
 * the history transposed to [slot][channel][neuron] and resident in L1/L2, the state in
 * registers across an interval, no optimizer, no events to plan, no neuron updates, no
 * subnormal numbers. Every width (2, 4, 8 lanes) and interleave (1 to 8 groups) the
 * compiler can make of them is timed and the fastest is the floor. For comparison, four
 * variants gather each lane's entries from its own per-neuron ring, [neuron][slot][channel]
 * (eprop's ring layout, which sparse rows need). Each variant is first
 * checked bit for bit against the plain scalar recurrence, so the floor is the exact
 * computation, not a contracted or reordered one.
 *
 * Build (the bench script does this):  cc -O3 -march=native -ffp-contract=off
 * Run:  exact_arithmetic_floor [entries per interval, default 21] [seconds per variant]
 * Prints one line per variant, then "floor_ns_per_eligibility_step <ns> <variant>".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TARGETS 128            /* one row: 128 consecutive targets */
#define ROWS 160               /* rows whose state is cycled (160 x 128 x 24 B = 480 KB) */
#define SLOTS 1024             /* history ring */

typedef double v2 __attribute__((vector_size(16)));
typedef double v4 __attribute__((vector_size(32)));
typedef double v8 __attribute__((vector_size(64)));

static double history[SLOTS * 3 * TARGETS] __attribute__((aligned(64)));
/* The same entries per neuron, [neuron][slot][channel]: eprop's ring layout, from which
 * the lanes of a group gather. */
static double rings[TARGETS * SLOTS * 3] __attribute__((aligned(64)));
static double zbar[SLOTS];
static double ebar[ROWS * TARGETS] __attribute__((aligned(64)));
static double ebarReg[ROWS * TARGETS] __attribute__((aligned(64)));
static double grad[ROWS * TARGETS] __attribute__((aligned(64)));
static const double kappa = 0.951229424500714, kappaReg = 0.9990004998333750;

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One rounded product: the volatile store keeps a compiler from fusing it into an add. */
static double product(double a, double b) {
    volatile double p = a * b;
    return p;
}

/* The scalar recurrence, one synapse at a time, every product rounded on its own: the bits
 * every variant must reproduce. Not timed (the volatile stores make it slow). */
static void rowReference(int row, int begin, int n) {
    const double oneMinusKappaReg = 1.0 - kappaReg;
    for (int s = 0; s < TARGETS; s++) {
        double b = ebar[row * TARGETS + s], r = ebarReg[row * TARGETS + s], g = grad[row * TARGETS + s];
        for (int i = 0; i < n; i++) {
            const double *h = history + ((begin + i) & (SLOTS - 1)) * 3 * TARGETS;
            double e = product(h[s], zbar[(begin + i) & (SLOTS - 1)]);
            b = product(kappa, b) + e;
            r = product(kappaReg, r) + product(oneMinusKappaReg, e);
            g = g + (product(h[TARGETS + s], b) + product(h[2 * TARGETS + s], r));
        }
        ebar[row * TARGETS + s] = b;
        ebarReg[row * TARGETS + s] = r;
        grad[row * TARGETS + s] = g;
    }
}

/* The entries of lanes s + q·LANES … of step slot `slot`: side by side in the step-major
 * history (one vector load per channel), or gathered lane by lane from the per-neuron rings. */
#define SIDE_BY_SIDE(V, LANES)                                                                   \
    const double *h = history + slot * 3 * TARGETS + s + q * LANES;                              \
    memcpy(&psi, h, sizeof(V));                                                                  \
    memcpy(&learning, h + TARGETS, sizeof(V));                                                   \
    memcpy(&reg, h + 2 * TARGETS, sizeof(V));
#define FROM_RINGS(V, LANES)                                                                     \
    for (int l = 0; l < LANES; l++) {                                                            \
        const double *h = rings + ((s + q * LANES + l) * SLOTS + slot) * 3;                      \
        psi[l] = h[0]; learning[l] = h[1]; reg[l] = h[2];                                        \
    }

/* A kernel: LANES targets per vector, GROUPS vectors interleaved, entries read by LOAD. */
#define KERNEL(NAME, V, LANES, GROUPS, LOAD)                                                     \
    static void NAME(int row, int begin, int n) {                                                \
        const V k = (V){0} + kappa, kr = (V){0} + kappaReg, c = (V){0} + (1.0 - kappaReg);       \
        for (int s = 0; s < TARGETS; s += LANES * GROUPS) {                                      \
            V b[GROUPS], r[GROUPS], g[GROUPS];                                                   \
            for (int q = 0; q < GROUPS; q++) {                                                   \
                int at = row * TARGETS + s + q * LANES;                                          \
                memcpy(&b[q], ebar + at, sizeof(V));                                             \
                memcpy(&r[q], ebarReg + at, sizeof(V));                                          \
                memcpy(&g[q], grad + at, sizeof(V));                                             \
            }                                                                                    \
            for (int i = 0; i < n; i++) {                                                        \
                const int slot = (begin + i) & (SLOTS - 1);                                      \
                const V z = (V){0} + zbar[slot];                                                 \
                for (int q = 0; q < GROUPS; q++) {                                               \
                    V psi, learning, reg;                                                        \
                    LOAD(V, LANES)                                                               \
                    V e = psi * z;                                                               \
                    b[q] = k * b[q] + e;                                                         \
                    r[q] = kr * r[q] + c * e;                                                    \
                    g[q] = g[q] + (learning * b[q] + reg * r[q]);                                \
                }                                                                                \
            }                                                                                    \
            for (int q = 0; q < GROUPS; q++) {                                                   \
                int at = row * TARGETS + s + q * LANES;                                          \
                memcpy(ebar + at, &b[q], sizeof(V));                                             \
                memcpy(ebarReg + at, &r[q], sizeof(V));                                          \
                memcpy(grad + at, &g[q], sizeof(V));                                             \
            }                                                                                    \
        }                                                                                        \
    }
#define VARIANT(NAME, V, LANES, GROUPS) KERNEL(NAME, V, LANES, GROUPS, SIDE_BY_SIDE)
#define GATHERED(NAME, V, LANES, GROUPS) KERNEL(NAME, V, LANES, GROUPS, FROM_RINGS)

GATHERED(g4x1, v4, 4, 1)
GATHERED(g4x2, v4, 4, 2)
GATHERED(g8x1, v8, 8, 1)
GATHERED(g8x2, v8, 8, 2)

VARIANT(v1x1, double, 1, 1)
VARIANT(v2x1, v2, 2, 1)
VARIANT(v2x2, v2, 2, 2)
VARIANT(v2x4, v2, 2, 4)
VARIANT(v2x8, v2, 2, 8)
VARIANT(v4x1, v4, 4, 1)
VARIANT(v4x2, v4, 4, 2)
VARIANT(v4x4, v4, 4, 4)
VARIANT(v4x8, v4, 4, 8)
VARIANT(v8x1, v8, 8, 1)
VARIANT(v8x2, v8, 8, 2)
VARIANT(v8x4, v8, 8, 4)
VARIANT(v8x8, v8, 8, 8)

typedef void (*Kernel)(int row, int begin, int n);
static const struct { const char *name; Kernel kernel; } variants[] = {
    {"1 lane x 1", v1x1},
    {"2 lanes x 1", v2x1}, {"2 lanes x 2", v2x2}, {"2 lanes x 4", v2x4}, {"2 lanes x 8", v2x8},
    {"4 lanes x 1", v4x1}, {"4 lanes x 2", v4x2}, {"4 lanes x 4", v4x4}, {"4 lanes x 8", v4x8},
    {"8 lanes x 1", v8x1}, {"8 lanes x 2", v8x2}, {"8 lanes x 4", v8x4}, {"8 lanes x 8", v8x8},
    {"gathered 4 lanes x 1", g4x1}, {"gathered 4 lanes x 2", g4x2},
    {"gathered 8 lanes x 1", g8x1}, {"gathered 8 lanes x 2", g8x2},
};

static uint64_t state = 0x9E3779B97F4A7C15u;
static double uniform(void) {   /* xorshift64*: reproducible data */
    state ^= state >> 12; state ^= state << 25; state ^= state >> 27;
    return (double)((state * 2685821657736338717u) >> 11) * 0x1p-53;
}

/* Fresh state and history: normal numbers of e-prop's magnitudes (no subnormals). */
static void fill(void) {
    state = 0x9E3779B97F4A7C15u;
    for (int t = 0; t < SLOTS; t++) {
        zbar[t] = 0.05 + 0.95 * uniform();
        for (int s = 0; s < TARGETS; s++) {
            double *h = history + t * 3 * TARGETS;
            h[s] = 0.3 * uniform();                      /* psi */
            h[TARGETS + s] = 2.0 * uniform() - 1.0;      /* L */
            h[2 * TARGETS + s] = 0.2 * uniform() - 0.1;  /* reg */
            for (int c = 0; c < 3; c++) rings[(s * SLOTS + t) * 3 + c] = h[c * TARGETS + s];
        }
    }
    for (int i = 0; i < ROWS * TARGETS; i++) { ebar[i] = uniform(); ebarReg[i] = uniform(); grad[i] = 0; }
}

/* Runs `kernel` over `events` intervals of n entries, cycling rows; as in a simulation,
 * EVENTS_PER_STEP events end at each step and read its latest n entries (cache-hot). */
#define EVENTS_PER_STEP 8
static void run(Kernel kernel, long events, int n) {
    for (long k = 0; k < events; k++) kernel((int)(k % ROWS), (int)((k / EVENTS_PER_STEP) & (SLOTS - 1)), n);
}

static int sameBits(const double *a, const double *b, int count) {
    return memcmp(a, b, (size_t)count * sizeof(double)) == 0;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 21;
    double budget = argc > 2 ? atof(argv[2]) : 0.4;
    if (n < 1 || n > SLOTS || budget <= 0) {
        fprintf(stderr, "usage: exact_arithmetic_floor [entries per interval 1..%d] [seconds per variant > 0]\n", SLOTS);
        return 2;
    }
    size_t bytes = sizeof(double) * ROWS * TARGETS;
    double *refB = malloc(bytes), *refR = malloc(bytes), *refG = malloc(bytes);
    if (!refB || !refR || !refG) return 1;
    fill();
    run(rowReference, 4 * ROWS, n);
    memcpy(refB, ebar, bytes); memcpy(refR, ebarReg, bytes); memcpy(refG, grad, bytes);

    double best = 1e300;
    const char *bestName = "";
    int count = (int)(sizeof variants / sizeof variants[0]);
    for (int v = 0; v < count; v++) {
        fill();
        run(variants[v].kernel, 4 * ROWS, n);
        if (!sameBits(ebar, refB, ROWS * TARGETS) || !sameBits(ebarReg, refR, ROWS * TARGETS) ||
            !sameBits(grad, refG, ROWS * TARGETS)) {
            fprintf(stderr, "variant %s does not reproduce the scalar bits (build with -ffp-contract=off)\n",
                    variants[v].name);
            return 1;
        }
        /* Time repeated bursts; the fastest burst counts (others share the machine). */
        long events = ROWS;
        double fastest = 1e300, spent = 0;
        while (spent < budget) {
            double start = seconds();
            run(variants[v].kernel, events, n);
            double took = seconds() - start;
            spent += took;
            if (took < 0.002) { events *= 2; continue; }
            double ns = took / ((double)events * TARGETS * n) * 1e9;
            if (ns < fastest) fastest = ns;
        }
        printf("%-12s %.3f ns per eligibility step\n", variants[v].name, fastest);
        if (fastest < best) { best = fastest; bestName = variants[v].name; }
    }
    printf("floor_ns_per_eligibility_step %.4f %s (g[0] %.17g)\n", best, bestName, grad[0]);
    printf("(the gathered variants read eprop's per-neuron layout; the floor is the fastest of all)\n");
    free(refB); free(refR); free(refG);
    return 0;
}
