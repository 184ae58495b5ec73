# -*- Python -*-
# lit configuration of mobagen: mobagen-opt and the mobagen CLI, checked with FileCheck.
import os
import shutil
import sys

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "mobagen"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mobagen_obj_root, "tests", "lit")

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
# `mobagen run` reads the tuning cache of the runtime's default directory, which on
# a developer's or CI machine may hold choices tuned earlier. The suite points it at
# a directory that does not exist (run never creates one; every test that tunes or
# benches names its own --cache-dir), so that what a test runs never depends on the
# machine. It is removed first in case something created it.
_no_tuning_cache = os.path.join(config.test_exec_root, "no-tuning-cache")
shutil.rmtree(_no_tuning_cache, ignore_errors=True)
config.environment["MOBAGEN_CACHE_DIR"] = _no_tuning_cache
llvm_config.use_default_substitutions()

# %python runs the interpreter that runs lit (it has numpy: scripts/setup.sh).
config.substitutions.append(("%python", sys.executable))
config.substitutions.append(("%mobagen_src", config.mobagen_src_root))
# A stand-in libcuda (tests/unit/fakecuda) with two devices, for `mobagen info`.
config.substitutions.append(("%fake_cuda_driver", config.fake_cuda_driver))
# PTX that nvcc compiled from tests/emulator/kernels at build time.
config.substitutions.append(("%emu_ptx_dir", os.path.join(config.mobagen_obj_root, "tests", "emulator", "ptx")))

tool_dirs = [config.mobagen_tools_dir, config.llvm_tools_dir]
tools = ["mobagen", "mobagen-opt", "mobagen-translate", "mobagen-template", "mobagen-write-test-bundle", "not"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
