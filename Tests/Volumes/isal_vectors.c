/* Known-answer vectors for Tests/Volumes/ReedSolomonTests.cs, made with Intel ISA-L (Debian libisal-dev 2.30):
 * parity of K data shards of LEN bytes, data[i][b] = (i * 31 + b * 7 + 1) mod 256, encoding matrix from
 * gf_gen_cauchy1_matrix and ec_encode_data. Build: gcc -O2 isal_vectors.c -lisal -o isal_vectors
 * Usage: ./isal_vectors K M LEN   prints the M parity shards, one lowercase hex line each. */
#include <isa-l/erasure_code.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int k = atoi(argv[1]), m = atoi(argv[2]), len = atoi(argv[3]), n = k + m;
  unsigned char *a = malloc(n * k), *tbl = malloc(32 * k * m), **buf = malloc(sizeof(void *) * n);
  for (int i = 0; i < n; i++) buf[i] = malloc(len);
  for (int i = 0; i < k; i++) for (int b = 0; b < len; b++) buf[i][b] = (unsigned char)(i * 31 + b * 7 + 1);
  gf_gen_cauchy1_matrix(a, n, k);
  ec_init_tables(k, m, &a[k * k], tbl);
  ec_encode_data(len, k, m, tbl, buf, &buf[k]);
  for (int p = 0; p < m; p++) { for (int b = 0; b < len; b++) printf("%02x", buf[k + p][b]); printf("\n"); }
  return 0;
}
