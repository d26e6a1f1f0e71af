//! Stand-in libcurand.so.10 for GPU machines without the real one (built by .ci/cuda-env.sh).
/* Fallback libcurand.so.10 for the candle bench: candle's CudaDevice creates a cuRAND generator
 * at start-up even if no random numbers are drawn on the GPU. The bench draws all random numbers
 * on the host, so this stub lets it start where the real libcurand.so.10 is missing.
 * Any real generation call fails with CURAND_STATUS_INTERNAL_ERROR (999). */
static int dummy_generator;
int curandCreateGenerator(void **gen, int rng_type) { (void)rng_type; *gen = &dummy_generator; return 0; }
int curandSetPseudoRandomGeneratorSeed(void *gen, unsigned long long seed) { (void)gen; (void)seed; return 0; }
int curandSetStream(void *gen, void *stream) { (void)gen; (void)stream; return 0; }
int curandDestroyGenerator(void *gen) { (void)gen; return 0; }
int curandGenerateNormal(void *g, float *o, unsigned long n, float m, float s) { return 999; }
int curandGenerateNormalDouble(void *g, double *o, unsigned long n, double m, double s) { return 999; }
int curandGenerateUniform(void *g, float *o, unsigned long n) { return 999; }
int curandGenerateUniformDouble(void *g, double *o, unsigned long n) { return 999; }
int curandGetVersion(int *v) { *v = 10400; return 0; }
