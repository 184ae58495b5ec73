//===- MobaAttrs.td - the MoBA configuration attribute -----*- tablegen -*-===//

#ifndef MOBAGEN_DIALECT_MOBA_IR_MOBAATTRS_TD
#define MOBAGEN_DIALECT_MOBA_IR_MOBAATTRS_TD

include "dialect/moba/IR/MobaDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/OpAsmInterface.td"

// `true` / `false`, as a keyword.
def Moba_BoolParameter : AttrOrTypeParameter<"bool", ""> {
  let parser = [{ [&]() -> ::mlir::FailureOr<bool> {
    if (::mlir::succeeded($_parser.parseOptionalKeyword("true")))
      return true;
    if (::mlir::succeeded($_parser.parseOptionalKeyword("false")))
      return false;
    return $_parser.emitError($_parser.getCurrentLocation(),
                              "expected 'true' or 'false'");
  }() }];
  let printer = [{ $_printer << ($_self ? "true" : "false") }];
}

// A bare keyword such as `sm_90a` (a quoted string is accepted too); checked
// against the supported list by the attribute's verifier, so an unknown name
// gets the same diagnostic as any other bad field.
def Moba_KeywordParameter : StringRefParameter<""> {
  let parser = [{ [&]() -> ::mlir::FailureOr<std::string> {
    std::string keyword;
    if ($_parser.parseKeywordOrString(&keyword))
      return ::mlir::failure();
    return keyword;
  }() }];
  let printer = [{ $_printer.printKeywordOrString($_self) }];
}

// An optional float written as a plain number (`scale = 0.125`), held as an f64
// FloatAttr (doubles have no hash for the attribute storage) and printed so that
// it parses back to the same double.
def Moba_OptionalFloatParameter
    : OptionalParameter<"::mlir::FloatAttr", ""> {
  let parser = [{ [&]() -> ::mlir::FailureOr<::mlir::FloatAttr> {
    double value;
    if ($_parser.parseFloat(value))
      return ::mlir::failure();
    return ::mlir::FloatAttr::get(
        ::mlir::Float64Type::get($_parser.getContext()), value);
  }() }];
  let printer = [{ $_printer.printFloat($_self.getValue()) }];
}

def Moba_ConfigAttr : AttrDef<Moba_Dialect, "Config"> {
  let mnemonic = "config";
  let summary = "A MoBA configuration: block size, top-k, heads, dtype, target";
  let description = [{
    Everything that specialises a MoBA kernel. Fields, in any order (`scale`
    may be omitted):

    | field | rule |
    |---|---|
    | `block_size` | keys per block; a multiple of 16 in `[16, 4096]` (16 is the smallest MMA tile) |
    | `top_k` | blocks each query attends to; `[1, 64]` (64 is the supported maximum) |
    | `head_dim` | `D`; 64 or 128 |
    | `num_q_heads`, `num_kv_heads` | `Hq`, `Hkv` >= 1 with `Hq % Hkv == 0` (GQA) |
    | `causal` | `true` or `false` |
    | `dtype` | `bf16` or `f16`: the type of q, k, v and out |
    | `target` | `sm_80`, `sm_90` or `sm_90a` |
    | `scale` | softmax scale, finite and > 0; default `1/sqrt(head_dim)` |

    Under causality the current block of a query always takes one of the
    `top_k` slots (DESIGN.md section 1.5).

    Example:

    ```mlir
    #moba.config<block_size = 512, top_k = 3, head_dim = 128, num_q_heads = 4,
                 num_kv_heads = 1, causal = true, dtype = bf16, target = sm_90a>
    ```
  }];
  let parameters = (ins
    "int64_t":$block_size,
    "int64_t":$top_k,
    "int64_t":$head_dim,
    "int64_t":$num_q_heads,
    "int64_t":$num_kv_heads,
    Moba_BoolParameter:$causal,
    "::mlir::Type":$dtype,
    Moba_KeywordParameter:$target,
    Moba_OptionalFloatParameter:$scale
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  // Printed IR names the configuration once, as `#moba_config = #moba.config<...>`.
  let genMnemonicAlias = 1;
  let extraClassDeclaration = [{
    /// The softmax scale: `scale` when given, else 1 / sqrt(head_dim).
    double getSoftmaxScale() const;
    /// Query heads per kv head (query head h reads kv head h / this).
    int64_t getGroupSize() const { return getNumQHeads() / getNumKvHeads(); }
  }];
}

#endif // MOBAGEN_DIALECT_MOBA_IR_MOBAATTRS_TD
