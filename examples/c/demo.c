/*
 * demo.c: libeprop from C. A small recurrent spiking network (20 inputs, 30 eprop_iaf,
 * 1 eprop_readout) learns one period of a sine wave with e-prop and Adam, after the
 * pattern of NEST's sine-wave regression example, and the program shows how errors are
 * reported.
 *
 *   make c-example     (builds libeprop.so, compiles this file with -std=c11 -pedantic
 *                       -Wall -Wextra -Werror and runs it)
 *
 * It exits 0 and prints "demo: ok" when every call gave the expected status and the
 * loss went down. Otherwise it exits 1 with file:line, the status and the library's
 * message. It uses no libm and no rand(): all random numbers come from a small LCG, so
 * every run prints the same numbers.
 */
#include "eprop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints where a call failed, its status and eprop_last_error(), then jumps to `fail`. */
#define CHECK(call)                                                                        \
    do {                                                                                   \
        int32_t status_ = (call);                                                          \
        if (status_ != EPROP_OK) {                                                         \
            fprintf(stderr, "%s:%d: %s\n  -> %s (%d): %s\n", __FILE__, __LINE__, #call,     \
                    eprop_status_string(status_), (int)status_, eprop_last_error());       \
            goto fail;                                                                     \
        }                                                                                  \
    } while (0)

/* As CHECK, for a call that must fail with status `expected`. */
#define EXPECT_STATUS(expected, call)                                                      \
    do {                                                                                   \
        int32_t status_ = (call);                                                          \
        if (status_ != (expected)) {                                                       \
            fprintf(stderr, "%s:%d: %s\n  -> expected %s, got %s (%d): %s\n", __FILE__,      \
                    __LINE__, #call, eprop_status_string(expected),                        \
                    eprop_status_string(status_), (int)status_,                            \
                    status_ == EPROP_OK ? "" : eprop_last_error());                        \
            goto fail;                                                                     \
        }                                                                                  \
    } while (0)

/* Fails with a message when `cond` is false. */
#define EXPECT(cond, ...)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: expectation failed: %s\n  -> ", __FILE__, __LINE__,     \
                    #cond);                                                                \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
            goto fail;                                                                     \
        }                                                                                  \
    } while (0)

#define COUNT_OF(a) ((int64_t)(sizeof(a) / sizeof((a)[0])))

enum {
    N_IN = 20,
    N_REC = 30,
    N_OUT = 1,
    STEPS = 200,     /* steps (ms) of one sequence = one training iteration */
    N_ITER = 20,
    OFFSET = 2,      /* spike generator offset + input delay, as in NEST's example */
    MAX_SPIKES = N_IN * STEPS * N_ITER
};

static const double DT = 1.0;           /* ms */
static const double PI = 3.14159265358979323846;

/* ---- Deterministic numbers without libm ------------------------------------------------ */

static uint64_t lcg_state = 20251121u;

/* Uniform in [0, 1): the top 53 bits of a 64-bit LCG (Knuth's MMIX constants). */
static double uniform(void) {
    lcg_state = lcg_state * 6364136223846793005u + 1442695040888963407u;
    return (double)(lcg_state >> 11) * (1.0 / 9007199254740992.0);
}

/* Normal-ish: the Irwin–Hall sum of 12 uniforms minus 6 (mean 0, variance 1). */
static double normalish(void) {
    double s = -6.0;
    for (int i = 0; i < 12; ++i) s += uniform();
    return s;
}

static double square_root(double x) {
    double r = x > 1.0 ? x : 1.0;
    for (int i = 0; i < 60; ++i) r = 0.5 * (r + x / r);
    return r;
}

static double sine(double x) {
    while (x > PI) x -= 2.0 * PI;
    while (x < -PI) x += 2.0 * PI;
    double term = x, sum = x;
    for (int k = 1; k < 20; ++k) {
        term *= -x * x / (double)((2 * k) * (2 * k + 1));
        sum += term;
    }
    return sum;
}

/* weights[i] = normal-ish / sqrt(fan_in) * scale */
static void random_weights(double *weights, int64_t count, int64_t fan_in, double scale) {
    double f = scale / square_root((double)fan_in);
    for (int64_t i = 0; i < count; ++i) weights[i] = normalish() * f;
}

/* ---- The demo ---------------------------------------------------------------------------- */

int main(void) {
    eprop_network *net = NULL;
    int exit_code = 1;

    static double w_in[N_REC * N_IN], w_rec[N_REC * N_REC], w_out[N_OUT * N_REC], w_fb[N_REC * N_OUT];
    static int64_t spike_neurons[MAX_SPIKES];
    static double spike_times[MAX_SPIKES];
    static double target_times[STEPS * N_ITER], target_values[STEPS * N_ITER];
    static double sample_times[STEPS], samples[STEPS * 2];
    double losses[N_ITER];

    /* 1. Library and version. */
    EXPECT(eprop_abi_version() == EPROP_ABI_VERSION, "library ABI %d, header ABI %d",
           (int)eprop_abi_version(), EPROP_ABI_VERSION);
    printf("libeprop %s (ABI %d)\n", eprop_version(), (int)eprop_abi_version());

    /* 2. Network and populations. */
    int32_t in, rec, out;
    CHECK(eprop_network_create(DT, &net));
    CHECK(eprop_add_population(net, "input", N_IN, &in));
    CHECK(eprop_add_population(net, "eprop_iaf", N_REC, &rec));
    CHECK(eprop_add_population(net, "eprop_readout", N_OUT, &out));

    {   /* NEST's sine-wave example, sequence length aside. */
        const char *names[] = {"C_m", "E_L", "V_m", "V_th", "tau_m", "t_ref", "c_reg", "f_target",
                               "kappa", "kappa_reg", "surrogate_gradient_height",
                               "surrogate_gradient_width", "eprop_isi_trace_cutoff",
                               "flush_event_send_interval"};
        const double values[] = {1.0, 0.0, 0.0, 0.03, 30.0, 0.0, 0.3, 10.0,
                                 0.97, 0.97, 10.0, 1.0 / 33.3, 100.0, 1000.0};
        CHECK(eprop_set_parameters(net, rec, names, values, COUNT_OF(values)));
        CHECK(eprop_set_parameter_string(net, rec, "surrogate_gradient_function", "piecewise_linear"));
    }
    {
        const char *names[] = {"C_m", "E_L", "tau_m", "V_m", "eprop_isi_trace_cutoff"};
        const double values[] = {1.0, 0.0, 30.0, 0.0, 100.0};
        CHECK(eprop_set_parameters(net, out, names, values, COUNT_OF(values)));
    }

    /* 3. Optimizer: the type first (it is fixed once an eprop_synapse exists), then the rest.
     *    Adam's defaults; one update per presynaptic spike (optimize_each_step 0, as in NEST's
     *    example). Adam moves every weight by about eta per update whatever the size of its
     *    gradient, so in a network this small eta ≥ 3e-4 silences the recurrent neurons
     *    within two iterations (the loss then sticks at 0.5 Σ y*² = 50). */
    {
        const char *names[] = {"eta", "batch_size", "optimize_each_step", "Wmin", "Wmax",
                               "beta_1", "beta_2", "epsilon"};
        const double values[] = {1e-4, 1.0, 0.0, -100.0, 100.0, 0.9, 0.999, 1e-7};
        CHECK(eprop_set_optimizer_string(net, "type", "adam"));
        CHECK(eprop_set_optimizer_parameters(net, names, values, COUNT_OF(values)));
    }

    /* 4. Dense connections, weights[post * n_pre + pre]. */
    {
        const double s = 0.03; /* = 1 - kappa, NEST's example scale */
        int32_t proj;
        random_weights(w_in, COUNT_OF(w_in), N_IN, s);
        random_weights(w_rec, COUNT_OF(w_rec), N_REC, s);
        random_weights(w_out, COUNT_OF(w_out), N_REC, s);
        random_weights(w_fb, COUNT_OF(w_fb), N_REC, s);
        CHECK(eprop_connect_dense(net, in, rec, "eprop_synapse", w_in, N_REC, N_IN, 0, DT, &proj));
        CHECK(eprop_connect_dense(net, rec, rec, "eprop_synapse", w_rec, N_REC, N_REC, 0, DT, &proj));
        CHECK(eprop_connect_dense(net, rec, out, "eprop_synapse", w_out, N_OUT, N_REC, 0, DT, &proj));
        CHECK(eprop_connect_dense(net, out, rec, "eprop_learning_signal_connection", w_fb, N_REC,
                                  N_OUT, 0, DT, &proj));
    }

    /* 5. Inputs: a frozen Poisson-like pattern (p = 0.05 per step), repeated every sequence.
     *    Neuron i's generator spikes at k + 1 + STEPS·iteration ms. */
    {
        static unsigned char mask[N_IN][STEPS];
        int64_t n = 0;
        for (int i = 0; i < N_IN; ++i)
            for (int k = 0; k < STEPS; ++k) mask[i][k] = uniform() < 0.05;
        for (int it = 0; it < N_ITER; ++it)
            for (int k = 0; k < STEPS; ++k)
                for (int i = 0; i < N_IN; ++i)
                    if (mask[i][k]) {
                        spike_neurons[n] = i;
                        spike_times[n] = (double)(k + 1 + STEPS * it);
                        ++n;
                    }
        CHECK(eprop_set_spike_times(net, in, spike_neurons, spike_times, n));
    }

    /* 6. Target: one sine period per sequence, from time 2 ms on; learning window 1 from 2 ms. */
    {
        const double window_time[] = {(double)OFFSET}, window_value[] = {1.0};
        for (int64_t t = 0; t < COUNT_OF(target_times); ++t) {
            target_times[t] = (double)(t + OFFSET);
            target_values[t] = sine(2.0 * PI * (double)(t % STEPS) / STEPS);
        }
        CHECK(eprop_set_target(net, out, target_times, target_values, COUNT_OF(target_times), N_OUT));
        CHECK(eprop_set_learning_window(net, out, window_time, window_value, 1, N_OUT));
    }

    /* 7. Errors: a rejected call returns a status, leaves everything unchanged and explains. */
    {
        const char *names[] = {"tau_m"};
        const double values[] = {-1.0};
        double tau_m = 0.0;
        EXPECT_STATUS(EPROP_ERR_BAD_PROPERTY, eprop_set_parameters(net, rec, names, values, 1));
        printf("tau_m = -1     -> %s: %s\n", eprop_status_string(EPROP_ERR_BAD_PROPERTY), eprop_last_error());
        CHECK(eprop_get_parameter(net, rec, "tau_m", &tau_m));
        EXPECT(tau_m == 30.0, "tau_m changed to %g by a rejected call", tau_m);

        EXPECT_STATUS(EPROP_ERR_NULL_ARGUMENT, eprop_simulate(NULL, 1.0));
        printf("NULL network   -> %s: %s\n", eprop_status_string(EPROP_ERR_NULL_ARGUMENT), eprop_last_error());

        EXPECT_STATUS(EPROP_ERR_UNKNOWN_NAME, eprop_get_parameter(net, rec, "tau_x", &tau_m));
        printf("unknown name   -> %s: %s\n", eprop_status_string(EPROP_ERR_UNKNOWN_NAME), eprop_last_error());
    }

    /* 8. Training: record y and y* of the readout, simulate the offset, then one sequence per
     *    iteration. Samples of iteration it have times 3 + STEPS·it … 202 + STEPS·it ms,
     *    as the samples NEST's example evaluates. */
    {
        const int64_t readout_neuron[] = {0};
        int32_t recorder, spikes;
        int64_t width = 0;
        CHECK(eprop_record_state(net, out, "readout_signal,target_signal", readout_neuron, 1, &recorder));
        CHECK(eprop_record_spikes(net, rec, &spikes));
        CHECK(eprop_recorder_width(net, recorder, &width));
        EXPECT(width == 2, "recorder width %lld, expected 2", (long long)width);

        CHECK(eprop_simulate(net, OFFSET * DT));
        CHECK(eprop_recorder_clear(net, recorder));
        CHECK(eprop_recorder_clear(net, spikes));

        for (int it = 0; it < N_ITER; ++it) {
            int64_t count = 0, n_spikes = 0;
            double loss = 0.0;
            CHECK(eprop_simulate(net, STEPS * DT));
            CHECK(eprop_recorder_count(net, recorder, &count));
            EXPECT(count == STEPS, "%lld samples, expected %d", (long long)count, STEPS);
            CHECK(eprop_recorder_get_samples(net, recorder, sample_times, samples, STEPS));
            EXPECT(sample_times[0] == (double)(OFFSET + 1 + STEPS * it), "first sample at %g ms", sample_times[0]);
            for (int64_t k = 0; k < count; ++k) {
                double e = samples[2 * k] - samples[2 * k + 1]; /* readout_signal - target_signal */
                loss += 0.5 * e * e;
            }
            losses[it] = loss;
            CHECK(eprop_recorder_count(net, spikes, &n_spikes));
            printf("iteration %2d  loss %10.6f  recurrent spikes %4lld\n", it + 1, loss, (long long)n_spikes);
            CHECK(eprop_recorder_clear(net, recorder));
            CHECK(eprop_recorder_clear(net, spikes));
        }
        {   /* Learning is noisy in a network this small: judge the best of the last five. */
            double best = losses[N_ITER - 5];
            for (int it = N_ITER - 4; it < N_ITER; ++it) best = losses[it] < best ? losses[it] : best;
            EXPECT(best < 0.5 * losses[0], "the loss did not halve: %g at iteration 1, at best %g in the last 5",
                   losses[0], best);
        }
    }

    {
        double time_ms = 0.0;
        CHECK(eprop_network_time(net, &time_ms));
        printf("simulated %.0f ms; loss %.4f -> %.4f\n", time_ms, losses[0], losses[N_ITER - 1]);
    }

    {   /* Work counters (by index, named by eprop_counter_info) and the energy estimate. */
        int64_t n_counters = 0, values[64];
        double joules = 0.0, time_ms = 0.0;
        CHECK(eprop_network_time(net, &time_ms));
        CHECK(eprop_counter_count(&n_counters));
        EXPECT(n_counters <= 64, "%lld counters", (long long)n_counters);
        CHECK(eprop_get_counters(net, values, 64));
        for (int64_t i = 0; i < n_counters; ++i) {
            const char *name = NULL;
            CHECK(eprop_counter_info(i, &name, NULL));
            if (strcmp(name, "neuron_updates") == 0)
                EXPECT(values[i] == (int64_t)N_REC * (int64_t)(time_ms / DT), "neuron_updates %lld",
                       (long long)values[i]);
            if (strcmp(name, "eligibility_steps") == 0 || strcmp(name, "optimizer_calls") == 0)
                printf("%s %lld\n", name, (long long)values[i]);
        }
        CHECK(eprop_energy_estimate(net, &joules, NULL, 0, NULL, 0));
        EXPECT(joules > 0.0, "energy %g J", joules);
        printf("estimated energy %.3g J (Horowitz 2014, 45 nm)\n", joules);
    }
    exit_code = 0;

fail:
    eprop_network_destroy(net);
    eprop_network_destroy(NULL); /* a no-op */
    if (exit_code == 0) printf("demo: ok\n");
    else fprintf(stderr, "demo: FAILED\n");
    return exit_code;
}
