//===- RunCommand.cpp - `mobagen run`: MoBA forward on .npy inputs ----------===//
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "runtime/reference/Compare.h"
#include "runtime/support/Npy.h"
#include "tools/mobagen/Commands.h"
#include "tools/mobagen/MobaInputs.h"
#ifdef MOBAGEN_HAVE_COMPILER
#include "tools/mobagen/EmulatorRun.h"
#endif

namespace mobagen::cli {
namespace {

struct RunOptions {
  InputPaths inputs;
  std::string cuSeqlensQ, cuSeqlensK;
  int64_t blockSize = 512;
  int64_t topK = 3;
  bool causal = true;
  double scale = 0.0;
  bool haveScale = false;
  std::string dtype = "bf16";
  std::string device = "reference";
  std::string outputDir = "mobagen-out";
  std::string outDtype = "float32";
  bool check = false;
  std::vector<std::string> variants; // KERNEL=ID
};

/// The devices this build of mobagen can run on.
std::vector<std::string> availableDevices() {
#ifdef MOBAGEN_HAVE_COMPILER
  return {"reference", "emulator"};
#else
  return {"reference"};
#endif
}

constexpr const char *kRunDescription = R"(Runs the MoBA forward on a varlen batch given as .npy files and writes
out.npy, lse.npy and selected.npy to --output-dir.

Inputs (NumPy .npy, C order):
  q [total_q, Hq, D], k and v [total_k, Hkv, D]: float16, float32 or float64 arrays,
    rounded to --dtype on load (round to nearest even), or uint16 arrays holding
    the raw bf16 / fp16 bit patterns of --dtype.
  cu_seqlens_q, cu_seqlens_k [B+1]: int32 or int64, starting at 0, non-decreasing;
    without them the batch is one sequence of all rows. Hq must be a multiple of Hkv.
Outputs:
  out.npy      [total_q, Hq, D]       the attention output, rounded to --dtype, stored
                                      per --out-dtype
  lse.npy      [Hq, total_q]          log-sum-exp of the scaled logits (float32, or
                                      float64 with --out-dtype float64)
  selected.npy [total_q, Hq, top_k]   int32 selected block indices per row and head,
                                      ascending, -1 in unused slots)";

Status writeOutputs(const RunOptions &o, const reference::AttentionShape &s,
                    const reference::MobaOutput &result, DType dtype) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(o.outputDir, ec);
  if (ec)
    return Status::errorf("cannot create output directory '{}': {}", o.outputDir, ec.message());
  const std::vector<int64_t> outShape{s.totalQ, s.numQHeads, s.headDim};
  const std::vector<int64_t> lseShape{s.numQHeads, s.totalQ};
  const auto &out = result.attention.out;
  const auto &lse = result.attention.lse;

  NpyArray outArray, lseArray;
  if (o.outDtype == "float64") {
    outArray = makeNpy(outShape, out);
    lseArray = makeNpy(lseShape, lse);
  } else {
    if (o.outDtype == "bits") {
      std::vector<uint16_t> bits(out.size());
      for (size_t i = 0; i < out.size(); ++i)
        bits[i] = encodeDType(out[i], dtype);
      outArray = makeNpy(outShape, bits);
    } else {
      std::vector<float> rounded(out.size());
      for (size_t i = 0; i < out.size(); ++i)
        rounded[i] = static_cast<float>(roundToDType(out[i], dtype));
      outArray = makeNpy(outShape, rounded);
    }
    lseArray = makeNpy(lseShape, std::vector<float>(lse.begin(), lse.end()));
  }
  const auto path = [&](const char *name) { return (fs::path(o.outputDir) / name).string(); };
  MOBAGEN_RETURN_IF_ERROR(writeNpy(path("out.npy"), outArray));
  MOBAGEN_RETURN_IF_ERROR(writeNpy(path("lse.npy"), lseArray));
  MOBAGEN_RETURN_IF_ERROR(writeNpy(
      path("selected.npy"),
      makeNpy({s.totalQ, s.numQHeads, result.selection.slots}, result.selection.blocks)));
  return Status::success();
}

int runCommand(RunOptions o) {
  auto fail = [](const Status &status) {
    fmt::print(stderr, "mobagen run: error: {}\n", status.message());
    return kExitFailure;
  };
  const DType dtype = *parseDType(o.dtype); // CLI11 has checked the spelling
  if (!o.cuSeqlensQ.empty())
    o.inputs.cuSeqlensQ = o.cuSeqlensQ;
  if (!o.cuSeqlensK.empty())
    o.inputs.cuSeqlensK = o.cuSeqlensK;

  auto inputs = loadMobaInputs(o.inputs, dtype);
  if (!inputs)
    return fail(inputs.status());

  reference::MobaParams params{.blockSize = o.blockSize, .topK = o.topK, .causal = o.causal,
                               .scale = o.haveScale ? std::optional(o.scale) : std::nullopt};
  if (o.check && o.device == "reference")
    return fail(Status::error("--check compares a device's result with the reference; "
                              "use it with --device emulator"));
  const auto start = std::chrono::steady_clock::now();
  Expected<reference::MobaOutput> result = Status::error("no device ran");
  std::map<std::string, std::string> variants;
  for (const std::string &v : o.variants) {
    const size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
      return fail(Status::errorf("--variant '{}' is not KERNEL=ID (e.g. gate_topk=m16w4)", v));
    variants[v.substr(0, eq)] = v.substr(eq + 1);
  }
  if (!variants.empty() && o.device != "emulator")
    return fail(Status::error("--variant picks a generated kernel's variant; use it with "
                              "--device emulator"));
#ifdef MOBAGEN_HAVE_COMPILER
  if (o.device == "emulator")
    result = runMobaOnEmulator(*inputs, params, dtype, variants);
  else
#endif
    result = reference::mobaForward(inputs->view(), params);
  if (!result)
    return fail(result.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto &s = inputs->shape;
  if (Status written = writeOutputs(o, s, *result, dtype); !written)
    return fail(written);

  fmt::print("mobagen run: device {}: {} sequence(s), total_q {}, total_k {}, Hq {}, Hkv {}, "
             "D {}, block {}, top-k {}, {}, {}, scale {:.6g}\n",
             o.device, inputs->cuSeqlensQ.size() - 1, s.totalQ, s.totalK, s.numQHeads,
             s.numKvHeads, s.headDim, o.blockSize, o.topK, o.causal ? "causal" : "non-causal",
             o.dtype, reference::effectiveScale(params.scale, s.headDim));
  fmt::print("mobagen run: wrote out.npy, lse.npy, selected.npy to {} ({:.3f} s)\n", o.outputDir,
             seconds);
  if (o.check) {
    // The float64 reference on the same (rounded) inputs, and the rules of
    // docs/accuracy.md.
    auto expected = reference::mobaForward(inputs->view(), params);
    if (!expected)
      return fail(expected.status());
    auto outputs = reference::checkOutputs(inputs->view(), params, dtype, result->attention.out,
                                           result->attention.lse, *expected);
    auto selection = reference::checkSelection(inputs->view(), params, result->selection.blocks,
                                               expected->selection);
    if (!outputs)
      return fail(outputs.status());
    if (!selection)
      return fail(selection.status());
    fmt::print("mobagen run: check against the reference: {}\n", outputs->summary());
    fmt::print("mobagen run: selection: {} of {} (row, head) entries identical, {} near-ties, "
               "{} mismatches{}{}\n",
               selection->exact, selection->entries, selection->nearTies, selection->mismatches,
               selection->ok() ? "" : "; first: ", selection->firstMismatch);
    if (!outputs->ok() || !selection->ok()) {
      fmt::print(stderr, "mobagen run: error: the {} result does not match the reference\n",
                 o.device);
      return kExitFailure;
    }
    fmt::print("mobagen run: verified against the float64 reference\n");
  }
  return kExitOk;
}

} // namespace

std::function<int()> addRunCommand(CLI::App &app) {
  auto options = std::make_shared<RunOptions>();
  RunOptions &o = *options;
  CLI::App *run = app.add_subcommand("run", "Run the MoBA forward on .npy inputs");
  run->footer(kRunDescription);
  run->add_option("--q", o.inputs.q, "q [total_q, Hq, D] (.npy)")->required();
  run->add_option("--k", o.inputs.k, "k [total_k, Hkv, D] (.npy)")->required();
  run->add_option("--v", o.inputs.v, "v [total_k, Hkv, D] (.npy)")->required();
  run->add_option("--cu-seqlens-q", o.cuSeqlensQ, "cu_seqlens_q [B+1] (.npy, int32/int64)");
  run->add_option("--cu-seqlens-k", o.cuSeqlensK, "cu_seqlens_k [B+1] (.npy, int32/int64)");
  run->add_option("--block-size", o.blockSize, "Keys per block (Bs)")->capture_default_str();
  run->add_option("--top-k", o.topK, "Blocks per query, the current block included when causal")
      ->capture_default_str();
  run->add_flag("--causal,!--non-causal", o.causal,
                "Causal (default; queries bottom-right aligned) or non-causal selection");
  run->add_option("--scale", o.scale, "Softmax scale (default 1/sqrt(D))")
      ->each([&o](const std::string &) { o.haveScale = true; });
  run->add_option("--dtype", o.dtype, "Element type of q, k, v and out")
      ->check(CLI::IsMember({"bf16", "fp16"}))
      ->capture_default_str();
  run->add_option("--device", o.device,
                  "Where to run: reference (float64 CPU), emulator (the generated kernels on "
                  "the PTX emulator)")
      ->check(CLI::IsMember(availableDevices()))
      ->capture_default_str();
  run->add_flag("--check", o.check,
                "Compare the device's out, lse and selection with the float64 reference "
                "(docs/accuracy.md); exit 1 on a mismatch");
  run->add_option("--variant", o.variants,
                  "KERNEL=ID: run that tuning variant of a generated kernel (ids: "
                  "`mobagen generate`'s manifest.json); repeatable, default the default variant")
;
  run->add_option("-o,--output-dir", o.outputDir, "Directory for out.npy, lse.npy, selected.npy")
      ->capture_default_str();
  run->add_option("--out-dtype", o.outDtype,
                  "How out.npy stores values: float32 (values of --dtype), bits (uint16 "
                  "bit patterns of --dtype), float64 (unrounded; reference only)")
      ->check(CLI::IsMember({"float32", "bits", "float64"}))
      ->capture_default_str();
  return [options] { return runCommand(*options); };
}

} // namespace mobagen::cli
