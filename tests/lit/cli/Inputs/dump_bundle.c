/* Writes every file that moba_small.h embeds into the directory argv[1] and prints
   its name and size: the embedding header holds the bundle byte for byte. */
#include <stdio.h>
#include <string.h>

#include "moba_small.h"

int main(int argc, char **argv) {
  size_t i;
  if (argc != 2)
    return 2;
  printf("%u files\n", (unsigned)moba_small_file_count);
  for (i = 0; i < moba_small_file_count; ++i) {
    const mobagen_bundle_file *f = &moba_small_files[i];
    char path[4096];
    FILE *out;
    if (strlen(argv[1]) + strlen(f->name) + 2 > sizeof path)
      return 1;
    sprintf(path, "%s/%s", argv[1], f->name);
    out = fopen(path, "wb");
    if (!out || fwrite(f->data, 1, f->size, out) != f->size || fclose(out) != 0)
      return 1;
    printf("%s %u\n", f->name, (unsigned)f->size);
  }
  return 0;
}
