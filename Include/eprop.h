/*
 * eprop.h — the C contract of libeprop, event-driven e-prop for sparse recurrent
 * spiking networks (Korcsak-Gorzo et al., arXiv 2511.21674), exact to NEST 3.10's
 * eprop_* models.
 *
 * Conventions (they hold for every function below):
 *   - Every function that can fail returns an int32_t status: EPROP_OK (0) or one of the
 *     codes below. On failure, eprop_last_error() returns a message for the calling thread
 *     naming the argument or parameter and the allowed range. Nothing is printed.
 *   - Handles are opaque and typed. Populations, projections and recorders are small
 *     integer ids owned by their network (0, 1, 2, … in creation order).
 *   - Neuron ids inside a population are 0-based int64_t. Times are in ms. Arrays are
 *     C-contiguous; 2-D arrays are row-major with the shape stated.
 *   - OUT: marks pointers the function writes. Output arrays are provided by the caller
 *     with the capacity stated; too small a capacity gives EPROP_ERR_BUFFER_TOO_SMALL.
 *   - Model, parameter and recordable names are NEST's (eprop_iaf, V_th, c_reg, …).
 *   - A network is not thread-safe: call into one network from one thread at a time.
 *
 * ABI: functions are never changed once released; new behaviour gets a new name (_v2).
 * Compare eprop_abi_version() with EPROP_ABI_VERSION at load time.
 */
#ifndef EPROP_H
#define EPROP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EPROP_ABI_VERSION 1

/* ---- Status codes ------------------------------------------------------------------- */
#define EPROP_OK                       0  /* success */
#define EPROP_ERR_NULL_ARGUMENT        1  /* a required pointer or handle was NULL */
#define EPROP_ERR_INVALID_ARGUMENT     2  /* an argument is out of range, NaN, or of the wrong length */
#define EPROP_ERR_UNKNOWN_NAME         3  /* unknown model, parameter, recordable or synapse name */
#define EPROP_ERR_BAD_PROPERTY         4  /* a parameter value violates the model's validity rules */
#define EPROP_ERR_ILLEGAL_CONNECTION   5  /* the connection is not allowed between these models */
#define EPROP_ERR_INVALID_STATE        6  /* the call is not allowed in the network's current state */
#define EPROP_ERR_BUFFER_TOO_SMALL     7  /* an output buffer's capacity is too small */
#define EPROP_ERR_OUT_OF_MEMORY        8  /* the request would not fit in memory */
#define EPROP_ERR_INTERRUPTED          9  /* the progress callback asked to stop */
#define EPROP_ERR_INTERNAL            10  /* a bug in eprop: please report it */

/** Opaque network handle. */
typedef struct eprop_network eprop_network;

/**
 * Progress callback for eprop_simulate_progress: steps_done of steps_total of this call.
 * Return 0 to continue, non-zero to stop after the current step (the network stays
 * consistent and can be simulated further).
 */
typedef int32_t (*eprop_progress_fn)(int64_t steps_done, int64_t steps_total, void *user_data);

/* ---- Library ------------------------------------------------------------------------- */

/** ABI version of the loaded library; equals EPROP_ABI_VERSION of a matching header. */
int32_t eprop_abi_version(void);
/** Library version, e.g. "0.1.0" (static storage). */
const char *eprop_version(void);
/** Message of the last failed call on this thread ("" if none; valid until the next failing call). */
const char *eprop_last_error(void);
/** One-line meaning of a status code (static storage). */
const char *eprop_status_string(int32_t status);

/* ---- Model catalogue (static storage for every returned string) ---------------------- */

/** Number of neuron models. */
int32_t eprop_model_count(int64_t *count /* OUT */);
/** Name of neuron model `index` (0 ≤ index < count). */
int32_t eprop_model_name(int64_t index, const char **name /* OUT */);
/**
 * Number of parameters of `model`. Besides the neuron models, "eprop_synapse" names the
 * optimizer parameters shared by all eprop synapses (NEST: its "optimizer" defaults).
 */
int32_t eprop_model_parameter_count(const char *model, int64_t *count /* OUT */);
/**
 * Parameter `index` of `model`: its name, unit ("" for none), kind ("real", "bool" or
 * "choice"), default (for choice: index into the choices), the rule it must satisfy as
 * text, and a one-line description. Any OUT pointer may be NULL.
 */
int32_t eprop_model_parameter_info(const char *model, int64_t index,
                                   const char **name /* OUT */, const char **unit /* OUT */,
                                   const char **kind /* OUT */, double *default_value /* OUT */,
                                   const char **rule /* OUT */, const char **doc /* OUT */);
/** Comma-separated recordables of `model`, e.g. "V_m,surrogate_gradient,learning_signal". */
int32_t eprop_model_recordables(const char *model, const char **csv /* OUT */);

/* ---- Network: constructor, destructor, methods --------------------------------------- */

/** Constructor. resolution_ms: the time step dt (> 0, finite; NEST's default for e-prop is 1). */
int32_t eprop_network_create(double resolution_ms, eprop_network **network /* OUT */);
/** Destructor. eprop_network_destroy(NULL) is a no-op. */
void eprop_network_destroy(eprop_network *network);
/** Resolution dt in ms. */
int32_t eprop_network_resolution(const eprop_network *network, double *resolution_ms /* OUT */);
/** Simulated time so far in ms (number of steps done × dt). */
int32_t eprop_network_time(const eprop_network *network, double *time_ms /* OUT */);

/**
 * Number of threads for the parallel phases of a step (1 … 256; default 1). Results are
 * bit-identical for any number of threads. Worker threads spin between steps and sleep
 * after about a millisecond without work.
 */
int32_t eprop_network_set_threads(eprop_network *network, int32_t threads);
/** Number of threads. */
int32_t eprop_network_threads(const eprop_network *network, int32_t *threads /* OUT */);

/**
 * Work a step needs before it runs on the worker threads (≥ 0; default 32768): its planned
 * synapse work (eligibility steps plus 4 per synapse event) plus 10 per recurrent neuron.
 * Smaller steps run on the calling thread, where they are faster than with threads
 * (cross-thread synchronisation and cache traffic cost more than they share). Results do
 * not depend on it. 0: every step runs on the threads.
 */
int32_t eprop_network_set_parallel_min_work(eprop_network *network, int64_t work);
/** The current minimum work of a parallel step. */
int32_t eprop_network_parallel_min_work(const eprop_network *network, int64_t *work /* OUT */);

/**
 * Simulate duration_ms (a non-negative multiple of dt). Successive calls continue exactly
 * where the previous one stopped.
 */
int32_t eprop_simulate(eprop_network *network, double duration_ms);
/**
 * As eprop_simulate, calling `progress` every `every_steps` steps (≥ 1) and after the last.
 * A non-zero return from `progress` before the last step stops after the current step with
 * EPROP_ERR_INTERRUPTED; after the last step the call has completed and returns EPROP_OK.
 */
int32_t eprop_simulate_progress(eprop_network *network, double duration_ms,
                                eprop_progress_fn progress, void *user_data, int64_t every_steps);

/**
 * Bytes the engine holds now (neuron state, e-prop histories, synapses, per-source state,
 * pending inputs, recordings) and, of those, the histories'. Either OUT pointer may be NULL.
 */
int32_t eprop_network_memory(const eprop_network *network, int64_t *bytes /* OUT */,
                             int64_t *history_bytes /* OUT */);
/**
 * Predicted bytes of a network before building it: neuron counts, eprop synapses
 * (`n_plastic`), static and feedback synapses (`n_fixed`), `n_sources` (the sum over eprop
 * projections of their source population sizes), the optimizer ("gradient_descent" or
 * "adam"), optimize_each_step, batch_size, and the recurrent neurons' cutoff and flush
 * interval (ms; +inf for none). Building fails fast with EPROP_ERR_OUT_OF_MEMORY when a
 * request would not fit in the memory available.
 */
int32_t eprop_estimate_memory(int64_t n_recurrent, int64_t n_readout, int64_t n_input, int64_t n_plastic,
                              int64_t n_fixed, int64_t n_sources, const char *optimizer,
                              int32_t optimize_each_step, int64_t batch_size, double cutoff_ms,
                              double flush_interval_ms, double resolution_ms, int64_t *bytes /* OUT */);
/**
 * As eprop_estimate_memory, for eprop synapses stored in `synapse_precision` ("double" or
 * "single", see eprop_set_synapse_string). With optimize_each_step 0 both estimates count
 * the interval gradients kept after flush events at their bound, 8 bytes per synapse; a
 * running network keeps them only for sources whose last event was a flush. A recurrent
 * population with dense incoming projections also keeps a step-major copy of its history
 * (as many bytes again as its history), which neither estimate counts.
 */
int32_t eprop_estimate_memory_v2(int64_t n_recurrent, int64_t n_readout, int64_t n_input, int64_t n_plastic,
                                 int64_t n_fixed, int64_t n_sources, const char *optimizer,
                                 int32_t optimize_each_step, int64_t batch_size, double cutoff_ms,
                                 double flush_interval_ms, double resolution_ms,
                                 const char *synapse_precision, int64_t *bytes /* OUT */);

/* ---- Populations ---------------------------------------------------------------------- */

/**
 * Add `size` (≥ 1) neurons of `model`: "input" (spike source driven by spike times; the role
 * of NEST's spike_generator + parrot_neuron), "eprop_iaf", "eprop_iaf_adapt",
 * "eprop_iaf_psc_delta", "eprop_iaf_psc_delta_adapt", "eprop_readout".
 */
int32_t eprop_add_population(eprop_network *network, const char *model, int64_t size,
                             int32_t *population /* OUT */);
/** Number of neurons in `population`. */
int32_t eprop_population_size(const eprop_network *network, int32_t population, int64_t *size /* OUT */);
/** Model name of `population` (static storage). */
int32_t eprop_population_model(const eprop_network *network, int32_t population, const char **model /* OUT */);

/**
 * Set `count` parameters of `population` at once, by NEST name, with NEST units (bools as
 * 0 or 1). The change is validated as a whole and applied only if every check passes.
 * "V_m" (mV) sets the membrane potential state of every neuron, "adaptation" the
 * adaptation state of adaptive models. A value replaces a per-neuron array.
 */
int32_t eprop_set_parameters(eprop_network *network, int32_t population,
                             const char *const *names, const double *values, int64_t count);
/**
 * Set a parameter that takes a name, e.g. surrogate_gradient_function = "exponential", or
 * eprop_readout's loss = "cross_entropy" (an eprop extension: softmax over the population's
 * readouts; "mean_squared_error", NEST's, is the default).
 */
int32_t eprop_set_parameter_string(eprop_network *network, int32_t population,
                                   const char *name, const char *value);
/** Get a real or bool parameter (per-neuron state such as "V_m": use eprop_get_state). */
int32_t eprop_get_parameter(const eprop_network *network, int32_t population,
                            const char *name, double *value /* OUT */);
/** Get a parameter that takes a name (the returned string has static storage). */
int32_t eprop_get_parameter_string(const eprop_network *network, int32_t population,
                                   const char *name, const char **value /* OUT */);
/**
 * Set parameter `name` per neuron: values[j] for neuron j, `count` = size. Validated for
 * every neuron (the message names the first failing one); state names ("V_m",
 * "adaptation") set per-neuron state. A name-valued parameter such as
 * surrogate_gradient_function takes indices into the names its rule lists
 * (eprop_model_parameter_info). Not for eprop_isi_trace_cutoff or eprop_readout's loss,
 * which take one value per population.
 */
int32_t eprop_set_parameter_array(eprop_network *network, int32_t population, const char *name,
                                  const double *values, int64_t count);
/** Every neuron's value of parameter `name` (whether set per neuron or not). */
int32_t eprop_get_parameter_array(const eprop_network *network, int32_t population, const char *name,
                                  double *values /* OUT [count] */, int64_t count);
/** Per-neuron state `name` (a recordable, e.g. "V_m") of all `count` = size neurons. */
int32_t eprop_get_state(const eprop_network *network, int32_t population, const char *name,
                        double *values /* OUT [count] */, int64_t count);
/** Set per-neuron state (only "V_m") of all `count` = size neurons. */
int32_t eprop_set_state(eprop_network *network, int32_t population, const char *name,
                        const double *values, int64_t count);

/* ---- Inputs ---------------------------------------------------------------------------- */

/**
 * Replace the pending spikes of an "input" population: neuron neurons[i] receives a
 * spike_generator spike at times_ms[i] (a multiple of dt, later than the current time) and
 * so fires one step later, as NEST's parrot does. Repeated (neuron, time) pairs give
 * repeated events. Pending spikes at exactly the current time are kept: NEST's generator
 * has already sent them.
 */
int32_t eprop_set_spike_times(eprop_network *network, int32_t population,
                              const int64_t *neurons, const double *times_ms, int64_t count);
/**
 * Target signal y* of an "eprop_readout" population, NEST step_rate_generator semantics:
 * values[n * n_times + k] becomes the target of neuron n from the readout step at
 * times_ms[k] on (strictly increasing multiples of dt, not before the current time).
 * Replaces the pending schedule; the current value holds until the first new time.
 */
int32_t eprop_set_target(eprop_network *network, int32_t population, const double *times_ms,
                         const double *values, int64_t n_times, int64_t n_neurons);
/** Learning window λ of an "eprop_readout" population, same layout and timing as targets. */
int32_t eprop_set_learning_window(eprop_network *network, int32_t population, const double *times_ms,
                                  const double *values, int64_t n_times, int64_t n_neurons);
/**
 * Current input (pA) of a recurrent or readout population, NEST step_current_generator
 * semantics with a one-step connection: values[n * n_times + k] is neuron n's current from
 * the step at times_ms[k] on; it enters I_in at the end of that step, so the membrane
 * feels it one step later (as in NEST). Same layout and rules as eprop_set_target.
 */
int32_t eprop_set_current(eprop_network *network, int32_t population, const double *times_ms,
                          const double *values, int64_t n_times, int64_t n_neurons);

/* ---- Connections ------------------------------------------------------------------------- */

/**
 * Connect pre[i] of pre_population to post[i] of post_population with weights[i], using
 * synapse_model "eprop_synapse" (plastic; delay exactly one step), "static_synapse"
 * (delay one step for now) or "eprop_learning_signal_connection" (readout → recurrent,
 * feedback weight B; its delay is ignored as in NEST), or their baseline counterparts
 * "eprop_synapse_bsshslm_2020" (weights outside its [Wmin, Wmax] are rejected with
 * EPROP_ERR_ILLEGAL_CONNECTION, as NEST's Connect does) and
 * "eprop_learning_signal_connection_bsshslm_2020". Creates a new projection.
 * Must be called before the first simulate.
 */
int32_t eprop_connect(eprop_network *network, int32_t pre_population, int32_t post_population,
                      const char *synapse_model, const int64_t *pre, const int64_t *post,
                      const double *weights, int64_t count, double delay_ms,
                      int32_t *projection /* OUT */);
/**
 * Connect all pairs with weights[post * n_pre + pre] (shape n_post × n_pre = the sizes of
 * the populations). If both populations are the same and allow_autapses is 0, the diagonal
 * is skipped (its values are ignored).
 */
int32_t eprop_connect_dense(eprop_network *network, int32_t pre_population, int32_t post_population,
                            const char *synapse_model, const double *weights, int64_t n_post,
                            int64_t n_pre, int32_t allow_autapses, double delay_ms,
                            int32_t *projection /* OUT */);
/**
 * Connect by a rule, as NEST's conn_spec: `rule` "all_to_all", "pairwise_bernoulli"
 * (rule_value = p, 0 ≤ p ≤ 1) or "fixed_indegree" (rule_value = k sources per target; with
 * allow_multapses 0 they are distinct). Weights are drawn with `seed` from
 * `weight_distribution`: "constant" (weight_a), "normal" (mean weight_a, std weight_b),
 * "uniform" (low weight_a, high weight_b), "normal_fan_in" (randn · weight_a / √n_pre, as
 * NEST's e-prop examples draw W_in and W_rec) or "glorot_uniform" (U(−l, l) · weight_a with
 * l = √(3 / max(1, (n_pre + n_post) / 2)), as NEST's N-MNIST example draws W_out). The same
 * seed gives the same network on every machine (not NEST's draws: for those, draw with
 * numpy and use eprop_connect).
 */
int32_t eprop_connect_rule(eprop_network *network, int32_t pre_population, int32_t post_population,
                           const char *synapse_model, const char *rule, double rule_value,
                           int32_t allow_autapses, int32_t allow_multapses,
                           const char *weight_distribution, double weight_a, double weight_b,
                           uint64_t seed, double delay_ms, int32_t *projection /* OUT */);
/** Number of synapses of `projection`. */
int32_t eprop_projection_size(const eprop_network *network, int32_t projection, int64_t *count /* OUT */);
/**
 * Memory of `projection` now: bytes of state per synapse, target index included (eprop_synapse
 * in double precision: 28 with gradient descent, 44 with Adam, +8 each for batch_size > 1,
 * adaptive targets, targets with differing tau_m; single precision: 16, 24, +4 each; static
 * and feedback synapses: 12), and the bytes of its pool of interval gradients kept after
 * flush events (eprop_synapse; 0 otherwise). Either OUT pointer may be NULL.
 */
int32_t eprop_projection_memory(const eprop_network *network, int32_t projection,
                                int64_t *bytes_per_synapse /* OUT */, int64_t *pending_bytes /* OUT */);
/** (pre, post) of every synapse, in the projection's storage order (sorted by pre, then post). */
int32_t eprop_get_connections(const eprop_network *network, int32_t projection,
                              int64_t *pre /* OUT [count] */, int64_t *post /* OUT [count] */,
                              int64_t count);
/** Weights of every synapse, in storage order. */
int32_t eprop_get_weights(const eprop_network *network, int32_t projection,
                          double *weights /* OUT [count] */, int64_t count);
/** Set every weight, in storage order (eprop_synapse: each within [Wmin, Wmax]). */
int32_t eprop_set_weights(eprop_network *network, int32_t projection, const double *weights,
                          int64_t count);
/** Dense weights[post * n_pre + pre]; absent synapses read 0, parallel synapses add up. */
int32_t eprop_get_weight_matrix(const eprop_network *network, int32_t projection,
                                double *weights /* OUT [n_post * n_pre] */, int64_t n_post,
                                int64_t n_pre);

/* ---- Optimizer (NEST: the "optimizer" defaults of eprop_synapse, shared by all) ----------- */

/**
 * Set optimizer parameters at once, validated as a whole: batch_size (> 0, whole),
 * eta (≥ 0), Wmin, Wmax (Wmin ≤ Wmax), optimize_each_step (0/1), beta_1, beta_2 ([0, 1)),
 * epsilon (≥ 0).
 */
int32_t eprop_set_optimizer_parameters(eprop_network *network, const char *const *names,
                                       const double *values, int64_t count);
/** type = "gradient_descent" or "adam"; only before any eprop_synapse exists. */
int32_t eprop_set_optimizer_string(eprop_network *network, const char *name, const char *value);
/** Get a real optimizer parameter. */
int32_t eprop_get_optimizer_parameter(const eprop_network *network, const char *name,
                                      double *value /* OUT */);
/** Get the optimizer type (static storage). */
int32_t eprop_get_optimizer_string(const eprop_network *network, const char *name,
                                   const char **value /* OUT */);

/* ---- Synapse model defaults (NEST: SetDefaults of a synapse model) --------------------------- */

/**
 * Set parameters of a plastic synapse model at once, validated as a whole.
 * "eprop_synapse": its optimizer (as eprop_set_optimizer_parameters); its storage precision
 * is name-valued (eprop_set_synapse_string).
 * "eprop_synapse_bsshslm_2020": its own optimizer (same names; batch_size counts update
 * intervals), average_gradient (0/1) and tau_m_readout (ms, > 0; each connect call takes
 * the value in effect then).
 */
int32_t eprop_set_synapse_parameters(eprop_network *network, const char *synapse_model,
                                     const char *const *names, const double *values, int64_t count);
/**
 * name = "type": "gradient_descent" or "adam"; only before synapses of the model exist.
 * "eprop_synapse" also has name = "precision": how its synapses store their state, "double"
 * (default; NEST's arithmetic, bit for bit) or "single" (4-byte floats: weight, traces and
 * Adam moments rounded to float once per event, computed in double; about half the memory).
 * Each connect call takes the value in effect then, as NEST's SetDefaults affects later
 * Connects; existing projections keep theirs.
 */
int32_t eprop_set_synapse_string(eprop_network *network, const char *synapse_model,
                                 const char *name, const char *value);
/** Get a real parameter of a plastic synapse model. */
int32_t eprop_get_synapse_parameter(const eprop_network *network, const char *synapse_model,
                                    const char *name, double *value /* OUT */);
/** Get the optimizer type (name "type") or eprop_synapse's "precision" (static storage). */
int32_t eprop_get_synapse_string(const eprop_network *network, const char *synapse_model,
                                 const char *name, const char **value /* OUT */);

/* ---- Kernel parameters of the time-driven baseline (*_bsshslm_2020) --------------------------- */

/**
 * Set eprop_update_interval (ms, > 0), eprop_learning_window (ms, > 0, ≤ the interval),
 * eprop_reset_neurons_on_update (0/1); both times multiples of the resolution. Only before
 * the first simulate call. They pace every *_bsshslm_2020 neuron and synapse.
 */
int32_t eprop_set_kernel_parameters(eprop_network *network, const char *const *names,
                                    const double *values, int64_t count);
/** Get a kernel parameter. */
int32_t eprop_get_kernel_parameter(const eprop_network *network, const char *name,
                                   double *value /* OUT */);

/* ---- Recording --------------------------------------------------------------------------- */

/** Record the spikes of every neuron of `population`. */
int32_t eprop_record_spikes(eprop_network *network, int32_t population, int32_t *recorder /* OUT */);
/**
 * Record, after every step, the comma-separated recordables (see eprop_model_recordables)
 * of neurons[0..n_neurons) of `population`. A sample of step t has time (t+1)·dt.
 */
int32_t eprop_record_state(eprop_network *network, int32_t population, const char *recordables,
                           const int64_t *neurons, int64_t n_neurons, int32_t *recorder /* OUT */);
/** Record, after every step, the weights of the synapses (pre[i], post[i]) of `projection`. */
int32_t eprop_record_weights(eprop_network *network, int32_t projection, const int64_t *pre,
                             const int64_t *post, int64_t count, int32_t *recorder /* OUT */);
/** Number of samples held (spikes for a spike recorder, steps for the others). */
int32_t eprop_recorder_count(const eprop_network *network, int32_t recorder, int64_t *count /* OUT */);
/** Values per sample (1 for spikes; recordables × neurons; synapses). */
int32_t eprop_recorder_width(const eprop_network *network, int32_t recorder, int64_t *width /* OUT */);
/** Spike times (ms) and sender neuron ids of a spike recorder; capacity ≥ count. */
int32_t eprop_recorder_get_spikes(const eprop_network *network, int32_t recorder,
                                  double *times_ms /* OUT */, int64_t *senders /* OUT */,
                                  int64_t capacity);
/**
 * Samples of a state or weight recorder: times_ms[count] and
 * values[sample][recordable][neuron] (state) or values[sample][synapse] (weights);
 * capacity ≥ count, values capacity ≥ count × width.
 */
int32_t eprop_recorder_get_samples(const eprop_network *network, int32_t recorder,
                                   double *times_ms /* OUT */, double *values /* OUT */,
                                   int64_t capacity);
/** Drop the samples held (recording goes on). */
int32_t eprop_recorder_clear(eprop_network *network, int32_t recorder);

/* ---- Work counters and energy estimate (docs/energy.md) --------------------------------
 *
 * A network counts the work its simulate calls do, in int64 counters that accumulate across
 * calls until eprop_reset_counters. Counters are identified by index (0 … count − 1, in a
 * fixed order; new counters are only ever appended) and named by eprop_counter_info:
 *
 *   0 neuron_updates             recurrent e-prop neuron updates, one per neuron per step
 *   1 readout_updates            eprop_readout neuron updates, one per neuron per step
 *   2 spikes                     spikes emitted by recurrent e-prop neurons (fan-out not counted)
 *   3 input_spikes               spikes emitted by input neurons (repeated spikes each)
 *   4 flush_events               flush events emitted by recurrent and input neurons
 *   5 automatic_flush_events     automatic flushes of silent sources (accumulate mode), one per
 *                                source per eprop projection
 *   6 synaptic_events            spike transmissions: one per synapse (static or eprop) per spike,
 *                                multiplicity counted; flushes are not transmitted
 *   7 plastic_events             events processed by eprop synapses: one per synapse per spike or
 *                                flush (automatic flushes included)
 *   8 eligibility_steps          synapse-steps of eligibility integration into recurrent targets
 *                                (iterations of the per-synapse gradient loop; ≤ cutoff per interval)
 *   9 adaptive_eligibility_steps of those, into adaptive targets (ε integrated too)
 *  10 readout_eligibility_steps  synapse-steps of gradient integration into eprop_readout targets
 *  11 presynaptic_trace_steps    steps of z̄: once per source per integrated step, plus once per
 *                                synapse when the targets' tau_m differ
 *  12 trace_decays               closed-form decays of a synapse's traces past the cutoff, at the
 *                                first spike after them (recurrent targets)
 *  13 optimizer_calls            per synapse: every integrated step (optimize_each_step) or every
 *                                spike after the first (accumulate mode)
 *  14 weight_writes              optimizer calls that computed a new weight
 *  15 gradient_descent_steps     gradient-descent weight steps
 *  16 adam_steps                 Adam iterations, catch-up iterations included
 *  17 learning_signal_writes     learning-signal additions B·err, one per feedback synapse per step
 *  18 history_entries_written    e-prop history entries, one per recurrent or readout neuron per step
 *  19 peak_history_bytes         largest bytes held by the e-prop histories since creation or reset
 *                                (a maximum; reset sets it to the bytes held now)
 *  20 synapse_state_bytes_touched  bytes of per-synapse state read + written (eprop synapse:
 *                                2 × its bytes − 4 per integrated event, + 8 per read or write of
 *                                a g kept since a flush, 4 + field size for a source's first
 *                                spike; static: 12 per transmission; feedback: 16 per write)
 *
 * Counting happens per event and per step (row length × steps), never per synapse in a kernel,
 * and gives the same values for any number of threads.
 *
 * Energy: every counter maps to fixed numbers of operations per count (eprop_energy_operations:
 * one value per energy-table entry), and each entry has an energy in pJ. The estimate is
 * Σ_counter count × Σ_entry operations × pJ × 1e-12 J. Entries (eprop_energy_entry_info):
 * fadd64, fmul64, sram_read_64b, sram_write_64b, dram_access_64b. Defaults: Horowitz,
 * "Computing's energy problem (and what we can do about it)", ISSCC 2014 (45 nm, 0.9 V):
 * SRAM 10 pJ per 64-bit access (8 KB), DRAM 1.3 nJ; fadd64 2.0 and fmul64 12.4 pJ extrapolated
 * from his 16- and 32-bit values (he lists no 64-bit ones; docs/energy.md).
 */

/** Number of work counters. */
int32_t eprop_counter_count(int64_t *count /* OUT */);
/** Name and one-line meaning of counter `index` (static storage); either OUT may be NULL. */
int32_t eprop_counter_info(int64_t index, const char **name /* OUT */, const char **doc /* OUT */);
/** Every counter of `network`, values[i] for counter i; capacity ≥ eprop_counter_count. */
int32_t eprop_get_counters(const eprop_network *network, int64_t *values /* OUT [capacity] */,
                           int64_t capacity);
/** Sets every counter to 0 (peak_history_bytes to the bytes the histories hold now). */
int32_t eprop_reset_counters(eprop_network *network);
/** Number of energy-table entries (operations). */
int32_t eprop_energy_entry_count(int64_t *count /* OUT */);
/**
 * Entry `index` of the energy table: its name, default energy in pJ and a one-line meaning
 * with its source (static storage). Any OUT pointer may be NULL.
 */
int32_t eprop_energy_entry_info(int64_t index, const char **name /* OUT */, double *default_pj /* OUT */,
                                const char **doc /* OUT */);
/**
 * Operations per count of `counter`: operations[e] for energy-table entry e;
 * capacity ≥ eprop_energy_entry_count.
 */
int32_t eprop_energy_operations(int64_t counter, double *operations /* OUT [capacity] */, int64_t capacity);
/**
 * Set `count` entries of the network's energy table by name, in pJ, validated as a whole
 * (known names; finite and ≥ 0): nothing changes if one fails.
 */
int32_t eprop_energy_table_set(eprop_network *network, const char *const *names, const double *values_pj,
                               int64_t count);
/** Get an entry of the network's energy table, pJ. */
int32_t eprop_energy_table_get(const eprop_network *network, const char *name, double *value_pj /* OUT */);
/** Restore the default energy table. */
int32_t eprop_energy_table_reset(eprop_network *network);
/**
 * Energy estimate of the counters under the network's table, in joules: the total and, if
 * the capacities are not 0, its split by counter (counter_capacity ≥ eprop_counter_count)
 * and by entry (entry_capacity ≥ eprop_energy_entry_count). NULL arrays need capacity 0.
 */
int32_t eprop_energy_estimate(const eprop_network *network, double *total_joules /* OUT */,
                              double *per_counter_joules /* OUT [counter_capacity] */, int64_t counter_capacity,
                              double *per_entry_joules /* OUT [entry_capacity] */, int64_t entry_capacity);

/* ---- Data: N-MNIST event files ---------------------------------------------------------
 *
 * N-MNIST (Orchard et al. 2015) stores one sample per file as 5-byte records: x = byte 0,
 * y = byte 1, polarity = bit 7 of byte 2 (1 = ON, 0 = OFF), time (µs) =
 * (byte2<<16 | byte3<<8 | byte4) & 0x7FFFFF. A record with y == 240 is a timestamp overflow,
 * not an event: it adds 2^13 = 8192 µs to the time of every later event of the file. Other
 * records must have x < 34 and y < 34.
 *
 * Both functions follow a size-query protocol: with capacity 0 the output arrays are not
 * touched (they may be NULL) and *count receives the number of elements; call again with
 * arrays of that capacity. A capacity > 0 that is too small gives EPROP_ERR_BUFFER_TOO_SMALL
 * and still sets *count. Files are read anew by every call.
 *
 * A file that cannot be opened or read, whose length is not a multiple of 5 bytes (a
 * truncated file), or that holds a record outside the 34 × 34 sensor gives
 * EPROP_ERR_INVALID_ARGUMENT with a message naming the file (and the byte count or the record
 * index). An empty file holds zero events.
 */

/**
 * The events of the N-MNIST file `path`, in file order, overflow records applied and
 * removed: x[i], y[i] (0 … 33), polarity[i] (0 or 1) and time_us[i] for i < *count.
 * capacity (≥ 0): the length of each of the four arrays (0: only report *count).
 */
int32_t eprop_nmnist_read(const char *path, uint8_t *x /* OUT */, uint8_t *y /* OUT */,
                          uint8_t *polarity /* OUT */, int64_t *time_us /* OUT */, int64_t capacity,
                          int64_t *count /* OUT */);
/**
 * The input spikes of the N-MNIST file `path` as NEST's N-MNIST example builds them: event i
 * has pixel p = polarity·34·34 + y·34 + x and goes to input neuron pixel_to_neuron[p] at step
 * round(time_us · n_steps / duration_us) (double precision, in that order, rounded half to
 * even as NumPy's round). pixel_to_neuron has n_pixels = 2·34·34 = 2312 entries, each −1
 * (blocked: its events are dropped) or a neuron id ≥ 0. n_steps ≥ 1; duration_us > 0, finite.
 *
 * Steps are 0 … n_steps inclusive: NEST's round(t·300/336040) gives 300 for the last
 * ≈ 560 µs, and eprop keeps that step rather than clipping it (the caller decides; NEST places
 * a sample's spikes at offset + step + 1, so step n_steps falls on the next sample's first
 * step). An event later than duration_us is an error (EPROP_ERR_INVALID_ARGUMENT naming the
 * file and event), never a silent shift or clip.
 *
 * Writes neurons[k], steps[k] for k < *count, sorted by step, then neuron. Several events of
 * one pixel in one step give repeated pairs (NEST: a parrot event with multiplicity).
 * capacity (≥ 0): the length of both arrays (0: only report *count).
 */
int32_t eprop_nmnist_spikes(const char *path, const int64_t *pixel_to_neuron, int64_t n_pixels,
                            int64_t n_steps, double duration_us, int64_t *neurons /* OUT */,
                            int64_t *steps /* OUT */, int64_t capacity, int64_t *count /* OUT */);

#ifdef __cplusplus
}
#endif

#endif /* EPROP_H */
