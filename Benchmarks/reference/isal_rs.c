/* Copied from PoolAI's shared anchors (shared/anchors/isal_rs.c, 2026-12-07) so that scripts/volume-bench.sh builds it
 * from any clone; the script prefers the shared copy when it is there. */
/* Erasure-coding anchor: Intel ISA-L (Debian libisal-dev) Reed-Solomon encode and decode speed on one
 * core, the physical reference for PoolAI's volumes. Build: gcc -O2 isal_rs.c -lisal -o isal_rs
 * Usage: ./isal_rs K M SHARD_BYTES SECONDS. Prints one JSON line; GB/s counts data bytes (K shards). */
#include <isa-l/erasure_code.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
  int k = atoi(argv[1]), m = atoi(argv[2]), len = atoi(argv[3]); double secs = atof(argv[4]);
  int n = k + m;
  unsigned char *a = malloc(n * k), *tbl = malloc(32 * k * m), *b = malloc(k * k), *inv = malloc(k * k), *dt = malloc(32 * k * k);
  unsigned char **buf = malloc(sizeof(void *) * n), **rec = malloc(sizeof(void *) * k), **src = malloc(sizeof(void *) * k);
  for (int i = 0; i < n; i++) { buf[i] = aligned_alloc(64, len); for (int j = 0; j < len; j++) buf[i][j] = rand(); }
  for (int i = 0; i < k; i++) rec[i] = aligned_alloc(64, len);
  gf_gen_cauchy1_matrix(a, n, k);
  ec_init_tables(k, m, &a[k * k], tbl);
  long iters = 0; double t0 = now(), t;
  do { ec_encode_data(len, k, m, tbl, buf, &buf[k]); iters++; } while ((t = now() - t0) < secs);
  double enc = (double)iters * k * len / t / 1e9;
  /* decode: lose the first m data shards, rebuild them from the remaining k shards */
  int lost = m < k ? m : k; int r = 0;
  for (int i = lost; i < n && r < k; i++) { memcpy(&b[k * r], &a[k * i], k); src[r++] = buf[i]; }
  gf_invert_matrix(b, inv, k);
  ec_init_tables(k, lost, inv, dt);
  iters = 0; t0 = now();
  do { ec_encode_data(len, k, lost, dt, src, rec); iters++; } while ((t = now() - t0) < secs);
  double dec = (double)iters * k * len / t / 1e9;
  int ok = 1; for (int i = 0; i < lost; i++) ok &= memcmp(rec[i], buf[i], len) == 0;
  printf("{\"k\": %d, \"m\": %d, \"shard_bytes\": %d, \"encode_gbps\": %.2f, \"decode_%d_lost_gbps\": %.2f, \"rebuilt_identical\": %s}\n", k, m, len, enc, lost, dec, ok ? "true" : "false");
  return ok ? 0 : 1;
}
