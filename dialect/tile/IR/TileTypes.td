//===- TileTypes.td - pointers, enums and type constraints -*- tablegen -*-===//
//
// The enums are stored as op properties (EnumProp), printed as bare keywords
// (`tile.program_id x`, `tile.reduce max ...`).
//

#ifndef MOBAGEN_DIALECT_TILE_IR_TILETYPES_TD
#define MOBAGEN_DIALECT_TILE_IR_TILETYPES_TD

include "dialect/tile/IR/TileDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/Properties.td"

def Tile_PtrType : TypeDef<Tile_Dialect, "Pointer"> {
  let mnemonic = "ptr";
  let summary = "pointer to a scalar in global (1) or shared (3) memory";
  let description = [{
    The address of one integer or float element. Address spaces follow NVVM:
    1 is global memory (the default, omitted when printed), 3 is shared memory.
    Pointer arithmetic (`tile.addptr`) counts in elements, not bytes.

    Example: `!tile.ptr<bf16>`, `!tile.ptr<f32, 3>`,
    `tensor<64x128x!tile.ptr<bf16>>` (a tile of pointers).
  }];
  let parameters = (ins "::mlir::Type":$pointeeType,
                        DefaultValuedParameter<"unsigned", "1">:$addressSpace);
  let assemblyFormat = "`<` $pointeeType (`,` $addressSpace^)? `>`";
  let genVerifyDecl = 1;
  let builders = [
    TypeBuilderWithInferredContext<(ins "::mlir::Type":$pointeeType,
                                        CArg<"unsigned", "1">:$addressSpace), [{
      return $_get(pointeeType.getContext(), pointeeType, addressSpace);
    }]>
  ];
}

def Tile_ProgramAxis : I32EnumAttr<"ProgramAxis", "an axis of the launch grid", [
  I32EnumAttrCase<"x", 0>, I32EnumAttrCase<"y", 1>, I32EnumAttrCase<"z", 2>
]> {
  let cppNamespace = "::mobagen::tile";
  let genSpecializedAttr = 0;
}

def Tile_ReduceKind : I32EnumAttr<"ReduceKind", "the combining function of a reduction", [
  I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"max", 1>, I32EnumAttrCase<"min", 2>
]> {
  let cppNamespace = "::mobagen::tile";
  let genSpecializedAttr = 0;
}

def Tile_InputPrecision : I32EnumAttr<"InputPrecision",
    "how tile.dot rounds f32 operands before the tensor cores read them", [
  I32EnumAttrCase<"ieee", 0>, I32EnumAttrCase<"tf32", 1>, I32EnumAttrCase<"tf32x3", 2>
]> {
  let cppNamespace = "::mobagen::tile";
  let genSpecializedAttr = 0;
}

// Tiles have static shapes: the compiler assigns every element to a thread.
def Tile_ElementType : AnyTypeOf<[AnyFloat, AnySignlessInteger, Tile_PtrType]>;
def Tile_Tensor : RankedTensorOf<[AnyFloat, AnySignlessInteger, Tile_PtrType],
                                 [HasStaticShapePred], "tile">;
def Tile_Value : AnyTypeOf<[Tile_ElementType, Tile_Tensor], "scalar or tile">;
def Tile_PtrTensor : RankedTensorOf<[Tile_PtrType], [HasStaticShapePred],
                                    "tile of pointers">;
def Tile_PtrLike : AnyTypeOf<[Tile_PtrType, Tile_PtrTensor], "pointer or tile of pointers">;
def Tile_IntLike : AnyTypeOf<[AnySignlessInteger,
    RankedTensorOf<[AnySignlessInteger], [HasStaticShapePred]>],
    "integer or tile of integers">;
def Tile_BoolLike : AnyTypeOf<[I1, RankedTensorOf<[I1], [HasStaticShapePred]>],
    "i1 or tile of i1">;
def Tile_NumericTensor : RankedTensorOf<[AnyFloat, AnySignlessInteger],
                                        [HasStaticShapePred], "tile of numbers">;
def Tile_NumericValue : AnyTypeOf<[AnyFloat, AnySignlessInteger, Tile_NumericTensor],
                                  "number or tile of numbers">;
def Tile_MatrixTile : RankedTensorOf<[AnyFloat, AnySignlessInteger],
    [HasStaticShapePred, HasAnyRankOfPred<[2]>], "2-D tile of numbers">;

#endif // MOBAGEN_DIALECT_TILE_IR_TILETYPES_TD
