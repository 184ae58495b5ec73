"""Copies bundle SRC to DST and replaces the text of one manifest value.
Usage: edit_manifest.py SRC DST deep|overflow|workspace|grid"""
import re
import shutil
import sys

src, dst, kind = sys.argv[1:4]
shutil.copytree(src, dst)
path = f"{dst}/manifest.json"
text = open(path).read()
if kind == "deep":  # "block_size": [[[[ ... ]]]] 100,000 deep
    text = re.sub(r'"block_size":\s*\d+', '"block_size": ' + "[" * 100000 + "]" * 100000, text, count=1)
elif kind == "overflow":
    text = re.sub(r'"scale":\s*[^,}]+', '"scale": 1e400', text, count=1)
elif kind == "workspace":
    text = text.replace('"name": "kbar", "dtype": "f32"', '"name": "kbar", "dtype": "f16"', 1) \
        if '"name": "kbar", "dtype": "f32"' in text else re.sub(r'"dtype":\s*"f32"', '"dtype": "f16"', text, count=1)
elif kind == "grid":
    text = text.replace('"num_kv_heads",', '"num_q_heads",', 1)
open(path, "w").write(text)
