//===- ConvertTileToNVVM.cpp - tile kernels to per-thread NVVM code ---------===//
//
// Lowers each tile kernel (a func.func of tile / arith / math / scf ops on
// tensors) to an llvm.func that computes, per thread, the elements its layout
// gives it: the round-robin baseline (TileLayout.h), or for tensor-core dot
// results and what is computed from them the accumulator and rows layouts
// (ValueLayout.h, decided by LayoutAnalysis before emission). Each tensor value
// becomes one scalar per slot; scalars stay scalars (every thread holds the same
// value). An operand needed in another layout is recomputed there or converted
// (convert). Operations that need elements of other threads stage their operand
// through a shared-memory buffer:
//
//   barrier; owners store their elements; barrier; every thread reads what it needs
//
// The first barrier keeps a loop's next iteration from overwriting a buffer that
// slower threads still read. Row reductions whose shape allows it combine with
// warp shuffles instead and exchange only per-warp partials (ShuffleReduction.h).
// Control flow must be structured (scf.for); the output still holds scalar
// arith / math / scf ops for the upstream conversions.
//
// tile.dot takes the lowering the pass option `dot` names (DotLayout.h): the FMA
// loop below, or ldmatrix + mma.sync per warp (MmaSyncDot.h), else an error;
// there, an operand whose load AxisInfo.h proves to be in aligned 16-byte runs
// skips the registers and goes from global memory straight into its staged copy
// by cp.async (AsyncCopy.h): that load emits nothing where it stands. With the
// pass option `swizzle`, such copies have XOR-swizzled rows (DotLayout.h).
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/Passes.h"
#include "compiler/Conversion/TileToNVVM/AsyncCopy.h"
#include "compiler/Conversion/TileToNVVM/AtomicAddToNVVM.h"
#include "compiler/Conversion/TileToNVVM/BarrierToNVVM.h"
#include "compiler/Conversion/TileToNVVM/MmaSyncDot.h"
#include "compiler/Conversion/TileToNVVM/ShuffleReduction.h"
#include "compiler/Conversion/TileToNVVM/TileLayout.h"
#include "compiler/Conversion/TileToNVVM/ValueLayout.h"
#include "dialect/tile/IR/TileDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

#include "llvm/ADT/MapVector.h"

#include <map>

namespace mobagen::compiler {

#define GEN_PASS_DEF_CONVERTTILETONVVM
#include "compiler/Conversion/Passes.h.inc"

namespace {

using namespace mlir;

Type scalarType(Type type);

/// Emits the per-thread body of one kernel.
class KernelEmitter {
public:
  KernelEmitter(ImplicitLocOpBuilder &b, gpu::GPUModuleOp module, StringRef kernel,
                int64_t threads, Value tid, DotLowering dotLowering,
                const LayoutAnalysis &analysis, bool swizzle, int64_t limit)
      : b(b), module(module), kernel(kernel.str()), threads(threads), tid(tid),
        dotLowering(dotLowering), analysis(analysis), swizzleCopies(swizzle), sharedLimit(limit) {}

  /// Decides which dot operands come by cp.async (under `dot=mma`); with
  /// `allowResident`, also those loaded outside the dot's loop (AsyncCopy.h);
  /// with `allowPipelines`, which of them a loop with `tile.num_stages` >= 2
  /// copies ahead into a ring of regions (PipelinedCopy).
  void planAsyncCopies(func::FuncOp kernel, bool allowResident, bool allowPipelines);
  /// Shared memory the kernel's buffers take (after emitBlock).
  int64_t sharedBytes() const {
    return llvm::alignTo(stagingBytes, 16) + residentBytes + pipelineBytes;
  }
  bool hasResidentCopies() const { return residentBytes != 0; }
  bool hasPipelines() const { return pipelineBytes != 0; }
  LogicalResult emitBlock(Block &block);
  void mapArgument(Value from, Value to) { scalars.map(from, to); }
  /// Creates the kernel's shared-memory buffers, sized for their largest sites
  /// (the sites' address computations name them already): static globals when
  /// they fit the 48 KB of static shared memory, else one dynamic (extern)
  /// buffer holding all of them, whose size `fn` records as
  /// `kDynamicSharedAttr`.
  void finishStaging(LLVM::LLVMFuncOp fn);

private:
  /// A dot operand of a loop with `tile.num_stages` = S >= 2, copied S - 1
  /// iterations ahead into a ring of S regions of its own (docs/lowering.md).
  struct PipelinedCopy {
    AsyncOperandCopy copy;
    int64_t offset, stride; // region 0 in the pipeline buffer; row stride
    bool swizzled;          // the dot's copy of this operand is (DotLayout.h)
    int64_t regionBytes;
  };
  struct Pipeline {
    int64_t stages;
    SmallVector<PipelinedCopy> copies;
    /// While the loop's body is emitted: the stage its iteration reads, and
    /// the groups committed since the body's own prefetch.
    Value stage;
    int64_t commitsSincePrefetch = 0;
  };
  std::string stagingSymbol() const { return "__" + kernel + "_staging"; }
  std::string residentSymbol() const { return "__" + kernel + "_resident"; }
  std::string pipelineSymbol() const { return "__" + kernel + "_pipeline"; }
  std::string dynamicSymbol() const { return "__" + kernel + "_dynamic"; }
  /// The address `offset` bytes into the shared-memory global `symbol`.
  Value sharedAddress(StringRef symbol, int64_t offset);
  /// The address `offset` bytes into the resident copies' buffer.
  Value residentArea(int64_t offset) { return sharedAddress(residentSymbol(), offset); }
  /// The address `offset` bytes into the staging buffer (its extent is
  /// registered by the site that owns it).
  Value stagingAddress(int64_t offset) { return sharedAddress(stagingSymbol(), offset); }
  bool isTile(Value v) const { return isa<RankedTensorType>(v.getType()); }
  TileLayout layoutOf(Type type) const { return TileLayout(cast<RankedTensorType>(type), threads); }
  /// Commits the cp.async copies issued so far as one group, counted for the
  /// pipelined loop being emitted.
  void commitGroup();
  /// The i32 stage of a pipelined loop's iteration `iteration` + `ahead`
  /// (iterations counted from 0): (iteration + ahead) mod `stages`.
  Value pipelineStage(Value iteration, int64_t ahead, int64_t stages);
  /// The address of `copy`'s region in `stage` of its ring.
  Value pipelineRegion(const PipelinedCopy &copy, Value stage);
  /// Issues `loop`'s pipelined copies of the iteration whose induction variable
  /// is `iv` into the ring's `stage`, if iv < ub; with `probe`, drops (and
  /// issues nothing for) the copies whose pointers are not computable there.
  void emitPipelinedCopies(scf::ForOp loop, Value iv, Value stage, bool probe);
  /// The value of `v` in `slot`: a tile's element (in viewLayout(v)), or the
  /// scalar itself.
  Value at(Value v, int64_t slot) {
    return isTile(v) ? viewSlots(v)[slot] : scalars.lookupOrNull(v);
  }

  // Layouts (ValueLayout.h). A tile's slots in `tiles` are in the layout the
  // analysis gave it; while an op is emitted, operands it needs in another
  // layout are viewed there (`operandViews`), and at() reads the views.
  ValueLayout layoutFor(Value v) const { return analysis.layoutOf(v); }
  int64_t slotCount(const ValueLayout &layout, Type type) const {
    return layout.isRoundRobin() ? layoutOf(type).slots() : layout.slots();
  }
  ValueLayout viewLayout(Value v) const {
    auto it = operandViews.find(v);
    return it == operandViews.end() ? layoutFor(v) : it->second.first;
  }
  ArrayRef<Value> viewSlots(Value v) const {
    if (auto it = operandViews.find(v); it != operandViews.end())
      return it->second.second;
    auto it = tiles.find(v);
    assert(it != tiles.end() && "a tile is emitted before its uses");
    return it->second;
  }
  /// Makes at() read `v` in `layout` for the op being emitted.
  void viewIn(Value v, const ValueLayout &layout) {
    if (isTile(v) && layoutFor(v) != layout)
      operandViews[v] = {layout, convert(v, layout)};
  }
  /// The layout a tile.store works in: its operands' shared one, except the
  /// rows layout (a row's value sits in several lanes: round-robin stores it once).
  ValueLayout storeLayout(tile::StoreOp op) const {
    ValueLayout l = analysis.commonLayout(op->getOperands());
    return l.kind == ValueLayout::Kind::mmaRows ? ValueLayout::roundRobin() : l;
  }
  /// Per-thread values of the mma layouts on warpsM warps along M, computed
  /// once at the kernel's entry.
  struct MmaFrame {
    Value rowBase;    // 16 (warp mod warpsM) + lane / 4
    Value colBase;    // 8 (warp div warpsM) + 2 (lane mod 4)
    Value quadLeader; // lane mod 4 == 0: one lane per row and warp
    Value rowsWriter; // quadLeader and warp < warpsM: one writer per row
    Value warpN;      // warp div warpsM
  };
  const MmaFrame &frameFor(int64_t warpsM);
  /// Coordinates already built while one tile is converted, by (axis, constant).
  using CoordCache = std::map<std::pair<int, int64_t>, Value>;
  /// The i32 coordinates of `slot` of a tile of `shape` in `layout`.
  SmallVector<Value> slotCoords(const ValueLayout &layout, ArrayRef<int64_t> shape,
                                int64_t slot, CoordCache &cache);
  /// `v`'s slots in `to`: recomputed there when its definition allows
  /// (elementAt), else through shared memory. Reused while the conversion
  /// dominates the insertion point.
  SmallVector<Value> convert(Value v, const ValueLayout &to);
  /// Between barriers, stores `slots` (a tile of `type` in `layout`) into a
  /// row-major copy at `offset` of the staging buffer, each row followed by
  /// `rowPadding` unused elements. Returns the copy's address.
  Value stageSlots(ArrayRef<Value> slots, const ValueLayout &layout, RankedTensorType type,
                   int64_t offset, int64_t rowPadding);
  /// Stores the slots of a tile in an mma layout at their (row, col) of a
  /// row-major copy with rows of `stride` elements: adjacent pairs of an
  /// accumulator as one access; a row's value by one lane.
  void storeMmaSlots(ArrayRef<Value> slots, const ValueLayout &layout, RankedTensorType type,
                     Value buffer, int64_t stride, bool swizzled = false);
  /// tile.reduce along the rows of an accumulator: each lane combines its
  /// slots of a row, the row's quad shuffles, and with warpsN > 1 the warps of
  /// a row combine their partials through shared memory.
  LogicalResult emitRowReduction(tile::ReduceOp op);

  Value zeroOf(Type type);
  Value andMasks(Value a, Value c);
  Value stagingArea(int64_t offset, int64_t bytes);
  /// Stores the tile's elements at their row-major index; with `rowPadding`, each
  /// row of the last dimension is followed by that many unused elements.
  Value stageInSharedMemory(Value tileValue, int64_t offset = 0, int64_t rowPadding = 0);
  Value loadStaged(Value buffer, Type element, Value index);
  Value guardedLoad(Value ptr, Type type, Value mask, Value other);
  void guardedStore(Value ptr, Value value, Value mask);

  LogicalResult emitOp(Operation *op);
  LogicalResult emitElementwise(Operation *op);
  LogicalResult emitConstant(arith::ConstantOp op);
  LogicalResult emitFor(scf::ForOp op);
  LogicalResult emitBroadcast(tile::BroadcastOp op);
  LogicalResult emitLoad(tile::LoadOp op);
  LogicalResult emitStore(tile::StoreOp op);
  LogicalResult emitAtomicAdd(tile::AtomicAddOp op);
  LogicalResult emitAddPtr(tile::AddPtrOp op);
  LogicalResult emitReduction(Operation *op, Value src, int64_t axis, tile::ReduceKind kind,
                              bool withIndex);
  void emitShuffleReduction(Operation *op, Value src, const ShuffleReductionPlan &plan,
                            tile::ReduceKind kind, bool withIndex);
  LogicalResult emitDot(tile::DotOp op);
  LogicalResult emitDotMmaSync(tile::DotOp op, const MmaSyncDotLayout &layout,
                               const AsyncDotPlan &plan);
  /// Issues the cp.async copies of `copy`'s load into the row-major copy at
  /// `buffer` with rows of `stride` elements, rows running along the load's
  /// other axis (so the copy is the transpose when `copy.axis` is 0).
  void emitAsyncCopy(const AsyncOperandCopy &copy, Value buffer, int64_t stride, bool swizzled);
  /// The same copies, each thread taking runs t, t + T, ... of the tile in
  /// order along `copy.axis`, with pointers and masks recomputed at each run's
  /// coordinates; false (and nothing emitted) when they are not computable so.
  bool emitAsyncCopyByRuns(const AsyncOperandCopy &copy, Value buffer, int64_t stride,
                           bool swizzled);
  /// The element of `value` at the i32 coordinates `coords` (one per dimension;
  /// none for a scalar), computed from its definition: ranges, splats, constant
  /// splats, expand_dims, broadcast, addptr and integer / comparison ops. Null
  /// when the definition involves anything else (a loaded tile, a reduction).
  Value elementAt(Value value, ArrayRef<Value> coords,
                  std::map<std::vector<const void *>, Value> &memo);
  /// Stores the elements of the 2-D `tileValue` that this thread owns into the
  /// row-major copy at `buffer` with rows of `stride` elements (no barriers).
  void storeOwned(Value tileValue, Value buffer, int64_t stride, bool swizzled = false);
  /// The index of `slot`'s element in such a copy; `base` caches the
  /// per-thread part across the slots of one tile.
  /// Per-thread swizzled indices already built, by residue class (swizzledIndexAt).
  using SwizzleCache = std::map<std::pair<int64_t, int64_t>, Value>;
  /// A swizzled copy's index (`swizzleBases` caching its per-thread parts
  /// across the slots of one tile) where `swizzleBases` is given.
  Value rowMajorSlotIndex(const TileLayout &layout, int64_t slot, int64_t stride, Value &base,
                          SwizzleCache *swizzleBases = nullptr);
  /// stagedIndex(rowBase + rowConst, colBase + colConst) of a swizzled copy, for
  /// per-thread bases (rowBase null: 0) and per-slot constants. The XOR repeats
  /// every 8 rows (rows of 8 chunks or more; 64 / chunks rows otherwise) and every
  /// 8 chunks along a row, so each residue class of the constants needs one
  /// per-thread index, and every slot adds a constant to one of them.
  Value swizzledIndexAt(Value rowBase, int64_t rowConst, Value colBase, int64_t colConst,
                        int64_t stride, SwizzleCache &cache);

  ImplicitLocOpBuilder &b;
  gpu::GPUModuleOp module;
  std::string kernel;
  int64_t threads;
  Value tid;
  DotLowering dotLowering;
  const LayoutAnalysis &analysis;
  bool swizzleCopies;  // the pass option `swizzle`
  int64_t sharedLimit; // the pass option `shared-limit`: no dot stages more
  IRMapping scalars;
  DenseMap<Value, SmallVector<Value>> tiles;
  DenseMap<Value, std::pair<ValueLayout, SmallVector<Value>>> operandViews; // of the op being emitted
  std::map<int64_t, MmaFrame> frames;                                      // by warpsM
  struct Conversion {
    Value value;
    ValueLayout to;
    Block *block; // where it was emitted: it holds there and in nested blocks
    SmallVector<Value> slots;
  };
  SmallVector<Conversion> conversions;
  DenseMap<Operation *, AsyncDotPlan> asyncDots; // by tile.dot
  llvm::DenseSet<Operation *> asyncLoads;        // loads those plans consume
  /// A copy that outlives the dot's loop: where it sits in the resident buffer
  /// and its row stride (the dot's staging stride for that operand).
  struct ResidentCopy {
    AsyncOperandCopy copy;
    int64_t offset, stride;
    bool swizzled;
  };
  DenseMap<Operation *, ResidentCopy> residentCopies; // by tile.load
  /// Where a load copied at its dot stood (a barrier, so that copies issued
  /// there do not overwrite what earlier sites' readers still read), and the
  /// extent of the staging sites since: if they end before the operand's
  /// region, its copies go there, overlapping the work up to the dot and
  /// keeping no pointers live across it.
  struct PendingCopy {
    Operation *anchor;
    int64_t extentSince = 0;
  };
  DenseMap<Operation *, PendingCopy> pendingCopies; // by tile.load
  int64_t residentBytes = 0;
  int64_t stagingBytes = 0; // the largest extent any staging site needs
  llvm::MapVector<Operation *, Pipeline> pipelines;      // by scf.for, in program order
  DenseMap<Operation *, Operation *> pipelinedLoads;      // tile.load -> its scf.for
  Pipeline *activePipeline = nullptr;
  int64_t pipelineBytes = 0;
  /// While a pipelined loop's copies are issued ahead: its induction variable
  /// stands for `ivReplacement`, and its body's other values are recomputed.
  Operation *aheadLoop = nullptr;
  Value ivReplacement;
};

/// The per-thread type of a tile's element or of a scalar: !tile.ptr becomes
/// !llvm.ptr in the same address space.
Type scalarType(Type type) {
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    type = tensor.getElementType();
  if (auto ptr = dyn_cast<tile::PointerType>(type))
    return LLVM::LLVMPointerType::get(type.getContext(), ptr.getAddressSpace());
  return type;
}

Value KernelEmitter::zeroOf(Type type) {
  if (isa<LLVM::LLVMPointerType>(type))
    return LLVM::ZeroOp::create(b, type);
  return arith::ConstantOp::create(b, type, cast<TypedAttr>(b.getZeroAttr(type)));
}

Value KernelEmitter::andMasks(Value a, Value c) {
  if (!a)
    return c;
  if (!c)
    return a;
  return arith::AndIOp::create(b, a, c);
}

/// Bytes one element occupies in a staging buffer (i1 travels as a byte).
int64_t stagedBytes(Type type) {
  if (isa<LLVM::LLVMPointerType>(type))
    return 8;
  return std::max<int64_t>(1, type.getIntOrFloatBitWidth() / 8);
}

/// The address `offset` bytes into the kernel's staging buffer, which grows to
/// cover [offset, offset + bytes). All sites share the buffer: a site's reads end
/// before the next site's first barrier, so only operands that are read together
/// (tile.dot's two) need distinct offsets.
Value KernelEmitter::stagingArea(int64_t offset, int64_t bytes) {
  stagingBytes = std::max(stagingBytes, offset + bytes);
  for (auto &[load, pending] : pendingCopies)
    pending.extentSince = std::max(pending.extentSince, offset + bytes);
  return stagingAddress(offset);
}

void KernelEmitter::finishStaging(LLVM::LLVMFuncOp fn) {
  OpBuilder atModule(module.getBody(), module.getBody()->begin());
  const std::pair<std::string, int64_t> buffers[] = {{stagingSymbol(), stagingBytes},
                                                     {residentSymbol(), residentBytes},
                                                     {pipelineSymbol(), pipelineBytes}};
  if (sharedBytes() <= kStaticSharedMemoryBytes) {
    for (auto &[symbol, bytes] : buffers)
      if (bytes != 0)
        LLVM::GlobalOp::create(atModule, b.getLoc(), LLVM::LLVMArrayType::get(b.getI8Type(), bytes),
                               /*isConstant=*/false, LLVM::Linkage::Internal, symbol, Attribute(),
                               /*alignment=*/16, /*addrSpace=*/3);
    return;
  }
  // Past the static limit: one extern array (PTX `.extern .shared`, sized at
  // launch) holds the buffers one after another, 16-byte aligned.
  LLVM::GlobalOp::create(atModule, b.getLoc(), LLVM::LLVMArrayType::get(b.getI8Type(), 0),
                         /*isConstant=*/false, LLVM::Linkage::External, dynamicSymbol(),
                         Attribute(), /*alignment=*/16, /*addrSpace=*/3);
  llvm::StringMap<int64_t> base;
  int64_t offset = 0;
  for (auto &[symbol, bytes] : buffers) {
    base[symbol] = offset;
    offset += llvm::alignTo(bytes, 16);
  }
  fn.walk([&](LLVM::AddressOfOp address) {
    auto it = base.find(address.getGlobalName());
    if (it == base.end())
      return;
    OpBuilder at(address);
    Value dynamic = LLVM::AddressOfOp::create(at, address.getLoc(), address.getType(), dynamicSymbol());
    Value moved = it->second == 0
                      ? dynamic
                      : LLVM::GEPOp::create(at, address.getLoc(), address.getType(), at.getI8Type(),
                                            dynamic,
                                            ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(it->second)})
                            .getResult();
    address.replaceAllUsesWith(moved);
    address.erase();
  });
  fn->setAttr(kDynamicSharedAttr, b.getI64IntegerAttr(offset));
}

void KernelEmitter::commitGroup() {
  NVVM::CpAsyncCommitGroupOp::create(b);
  if (activePipeline)
    ++activePipeline->commitsSincePrefetch;
}

Value KernelEmitter::pipelineStage(Value iteration, int64_t ahead, int64_t stages) {
  if (ahead != 0)
    iteration = arith::AddIOp::create(b, iteration, constantI32(b, ahead));
  return arith::RemUIOp::create(b, iteration, constantI32(b, stages));
}

Value KernelEmitter::pipelineRegion(const PipelinedCopy &copy, Value stage) {
  Value first = sharedAddress(pipelineSymbol(), copy.offset);
  Value offset = arith::MulIOp::create(b, stage, constantI32(b, copy.regionBytes));
  return LLVM::GEPOp::create(b, first.getType(), b.getI8Type(), first, ValueRange{offset});
}

void KernelEmitter::emitPipelinedCopies(scf::ForOp loop, Value iv, Value stage, bool probe) {
  Pipeline &p = pipelines.find(loop)->second;
  Value ahead = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, iv,
                                      scalars.lookup(loop.getUpperBound()));
  auto issue = scf::IfOp::create(b, ahead, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(issue.thenBlock()->getTerminator());
  aheadLoop = loop;
  ivReplacement = iv;
  for (auto it = p.copies.begin(); it != p.copies.end();) {
    if (emitAsyncCopyByRuns(it->copy, pipelineRegion(*it, stage), it->stride, it->swizzled)) {
      ++it;
      continue;
    }
    // Not computable ahead (only a probe gets here): the dot copies it.
    assert(probe && "a copy computable at the first iteration is computable at every one");
    (void)probe;
    pipelinedLoads.erase(it->copy.load);
    it = p.copies.erase(it);
  }
  aheadLoop = nullptr;
  ivReplacement = Value();
}

Value KernelEmitter::sharedAddress(StringRef symbol, int64_t offset) {
  auto ptrType = LLVM::LLVMPointerType::get(b.getContext(), 3);
  Value base = LLVM::AddressOfOp::create(b, ptrType, symbol);
  if (offset == 0)
    return base;
  return LLVM::GEPOp::create(b, ptrType, b.getI8Type(), base,
                             ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(offset)});
}

/// The staging index of row-major element `linear` when each row of `rowLength`
/// elements is followed by `rowPadding` unused ones.
Value paddedIndex(ImplicitLocOpBuilder &b, Value linear, int64_t rowLength, int64_t rowPadding) {
  if (rowPadding == 0)
    return linear;
  Value rows = arith::DivUIOp::create(b, linear, constantI32(b, rowLength));
  return arith::AddIOp::create(b, linear, arith::MulIOp::create(b, rows, constantI32(b, rowPadding)));
}

Value KernelEmitter::stageInSharedMemory(Value tileValue, int64_t offset, int64_t rowPadding) {
  return stageSlots(viewSlots(tileValue), viewLayout(tileValue),
                    cast<RankedTensorType>(tileValue.getType()), offset, rowPadding);
}

Value KernelEmitter::stageSlots(ArrayRef<Value> slots, const ValueLayout &l, RankedTensorType type,
                                int64_t offset, int64_t rowPadding) {
  const TileLayout layout = layoutOf(type);
  Type element = scalarType(type);
  const int64_t rowLength = layout.shape().empty() ? 1 : layout.shape().back();
  const int64_t rows = layout.elements() / std::max<int64_t>(rowLength, 1);
  Value buffer =
      stagingArea(offset, (layout.elements() + rows * rowPadding) * stagedBytes(element));
  NVVM::Barrier0Op::create(b);
  if (!l.isRoundRobin()) {
    storeMmaSlots(slots, l, type, buffer, rowLength + rowPadding);
  } else {
    for (int64_t slot = 0; slot < layout.slots(); ++slot) {
      Value index = paddedIndex(b, layout.linearIndex(b, tid, slot), rowLength, rowPadding);
      Value value = slots[slot];
      Type stored = element;
      if (element.isInteger(1)) {
        value = arith::ExtUIOp::create(b, b.getI8Type(), value);
        stored = b.getI8Type();
      }
      Value addr = LLVM::GEPOp::create(b, buffer.getType(), stored, buffer, ValueRange{index});
      guardedStore(addr, value, layout.validity(b, tid, slot));
    }
  }
  NVVM::Barrier0Op::create(b);
  return buffer;
}

const KernelEmitter::MmaFrame &KernelEmitter::frameFor(int64_t warpsM) {
  auto [it, inserted] = frames.try_emplace(warpsM);
  if (!inserted)
    return it->second;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfterValue(tid);
  Value warp = arith::DivUIOp::create(b, tid, constantI32(b, 32));
  Value lane = arith::RemUIOp::create(b, tid, constantI32(b, 32));
  Value quad = arith::DivUIOp::create(b, lane, constantI32(b, 4));
  Value inQuad = arith::RemUIOp::create(b, lane, constantI32(b, 4));
  Value warpM = arith::RemUIOp::create(b, warp, constantI32(b, warpsM));
  MmaFrame &f = it->second;
  f.warpN = arith::DivUIOp::create(b, warp, constantI32(b, warpsM));
  f.rowBase = arith::AddIOp::create(
      b, arith::MulIOp::create(b, warpM, constantI32(b, MmaSyncDotLayout::tileM)), quad);
  f.colBase = arith::AddIOp::create(
      b, arith::MulIOp::create(b, f.warpN, constantI32(b, MmaSyncDotLayout::tileN)),
      arith::MulIOp::create(b, inQuad, constantI32(b, 2)));
  f.quadLeader = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, inQuad, constantI32(b, 0));
  f.rowsWriter = arith::AndIOp::create(
      b, f.quadLeader,
      arith::CmpIOp::create(b, arith::CmpIPredicate::ult, warp, constantI32(b, warpsM)));
  return f;
}

SmallVector<Value> KernelEmitter::slotCoords(const ValueLayout &l, ArrayRef<int64_t> shape,
                                             int64_t slot, CoordCache &cache) {
  if (l.isRoundRobin()) {
    const TileLayout rr(RankedTensorType::get(shape, b.getI32Type()), threads);
    return rr.delinearize(b, rr.clampedLinearIndex(b, tid, slot));
  }
  const MmaFrame &f = frameFor(l.warpsM);
  auto plus = [&](int axis, int64_t constant) -> Value {
    Value &v = cache[{axis, constant}];
    if (!v) {
      Value base = axis == 0 ? f.rowBase : axis == 1 ? f.colBase : Value();
      v = axis == 2 ? constantI32(b, constant)
          : constant == 0 ? base
                          : arith::AddIOp::create(b, base, constantI32(b, constant)).getResult();
    }
    return v;
  };
  const auto [rowOffset, colOffset] = l.slotOffset(slot);
  if (l.kind == ValueLayout::Kind::mmaRows) {
    Value row = plus(0, rowOffset);
    if (shape.size() == 1)
      return {row};
    return {row, plus(2, 0)};
  }
  return {plus(0, rowOffset), plus(1, colOffset)};
}

/// Whether an accumulator's slots 2 p and 2 p + 1 (adjacent columns of a row)
/// move as one access in a copy with rows of `stride` elements of `element`.
static bool pairedAccesses(Type element, int64_t stride) {
  return !isa<LLVM::LLVMPointerType>(element) && element.getIntOrFloatBitWidth() >= 16 &&
         stride % 2 == 0;
}

void KernelEmitter::storeMmaSlots(ArrayRef<Value> slots, const ValueLayout &l,
                                  RankedTensorType type, Value buffer, int64_t stride,
                                  bool swizzled) {
  Type element = scalarType(type);
  Type stored = element.isInteger(1) ? b.getI8Type() : element;
  CoordCache cache;
  SwizzleCache bases;
  auto address = [&](int64_t slot) {
    if (swizzled && l.kind == ValueLayout::Kind::mmaAcc) {
      // slotCoords' per-thread bases and per-slot constants.
      const MmaFrame &f = frameFor(l.warpsM);
      const auto [rowOffset, colOffset] = l.slotOffset(slot);
      Value index = swizzledIndexAt(f.rowBase, rowOffset, f.colBase, colOffset, stride, bases);
      return LLVM::GEPOp::create(b, buffer.getType(), stored, buffer, ValueRange{index}).getResult();
    }
    SmallVector<Value> rc = slotCoords(l, type.getShape(), slot, cache);
    Value index = rc.size() == 1 ? rc[0] : stagedIndex(b, rc[0], rc[1], stride, swizzled);
    return LLVM::GEPOp::create(b, buffer.getType(), stored, buffer, ValueRange{index}).getResult();
  };
  auto widen = [&](Value v) -> Value {
    return element.isInteger(1) ? arith::ExtUIOp::create(b, b.getI8Type(), v).getResult() : v;
  };
  if (l.kind == ValueLayout::Kind::mmaRows) {
    const MmaFrame &f = frameFor(l.warpsM);
    for (auto [slot, value] : llvm::enumerate(slots))
      guardedStore(address(slot), widen(value), f.rowsWriter);
    return;
  }
  const bool pairs = pairedAccesses(stored, stride);
  for (int64_t slot = 0; slot < static_cast<int64_t>(slots.size()); slot += pairs ? 2 : 1) {
    if (!pairs) {
      LLVM::StoreOp::create(b, widen(slots[slot]), address(slot));
      continue;
    }
    auto pairType = VectorType::get({2}, stored);
    Value pair = LLVM::PoisonOp::create(b, pairType);
    for (int64_t i = 0; i < 2; ++i)
      pair = LLVM::InsertElementOp::create(b, pair, slots[slot + i], constantI32(b, i));
    LLVM::StoreOp::create(b, pair, address(slot),
                          /*alignment=*/2 * stored.getIntOrFloatBitWidth() / 8);
  }
}

SmallVector<Value> KernelEmitter::convert(Value v, const ValueLayout &to) {
  const ValueLayout from = layoutFor(v);
  auto found = tiles.find(v);
  assert(found != tiles.end() && "a tile is emitted before its uses");
  if (from == to)
    return found->second;
  // Emitted before, here or in a block this one is nested in: it still holds.
  for (Block *block = b.getInsertionBlock(); block;
       block = block->getParentOp() ? block->getParentOp()->getBlock() : nullptr)
    for (const Conversion &c : conversions)
      if (c.value == v && c.to == to && c.block == block)
        return c.slots;
  auto type = cast<RankedTensorType>(v.getType());
  const int64_t count = slotCount(to, type);
  SmallVector<Value> slots;
  CoordCache cache;
  if (!to.isRoundRobin() && recomputable(v)) {
    std::map<std::vector<const void *>, Value> memo;
    for (int64_t slot = 0; slot < count; ++slot) {
      Value element = elementAt(v, slotCoords(to, type.getShape(), slot, cache), memo);
      if (!element) {
        slots.clear();
        break;
      }
      slots.push_back(element);
    }
  }
  if (slots.empty()) {
    // Through shared memory; rows of 16k elements padded as the dot pads them
    // (DotLayout.h), so that accumulator pairs fall on distinct banks.
    const int64_t rowLength = type.getShape().back();
    const int64_t rowPadding =
        type.getRank() == 2 && rowLength % 16 == 0 ? MmaSyncDotLayout::pad : 0;
    Value buffer = stageSlots(found->second, from, type, 0, rowPadding);
    Type element = scalarType(type);
    const TileLayout rr = layoutOf(type);
    const bool pairs =
        to.kind == ValueLayout::Kind::mmaAcc && pairedAccesses(element, rowLength + rowPadding);
    for (int64_t slot = 0; slot < count; ++slot) {
      if (pairs && slot % 2 == 1)
        continue; // read with its pair
      Value index;
      if (to.isRoundRobin()) {
        index = paddedIndex(b, rr.clampedLinearIndex(b, tid, slot), rowLength, rowPadding);
      } else {
        SmallVector<Value> rc = slotCoords(to, type.getShape(), slot, cache);
        index = rc.size() == 1 ? rc[0]
                               : stagedIndex(b, rc[0], rc[1], rowLength + rowPadding, false);
      }
      if (!pairs) {
        slots.push_back(loadStaged(buffer, element, index));
        continue;
      }
      auto pairType = VectorType::get({2}, element);
      Value addr = LLVM::GEPOp::create(b, buffer.getType(), element, buffer, ValueRange{index});
      Value pair = LLVM::LoadOp::create(b, pairType, addr,
                                        /*alignment=*/2 * element.getIntOrFloatBitWidth() / 8);
      for (int64_t i = 0; i < 2; ++i)
        slots.push_back(LLVM::ExtractElementOp::create(b, pair, constantI32(b, i)));
    }
  }
  conversions.push_back({v, to, b.getInsertionBlock(), slots});
  return slots;
}

Value KernelEmitter::loadStaged(Value buffer, Type element, Value index) {
  Type stored = element.isInteger(1) ? b.getI8Type() : element;
  Value addr = LLVM::GEPOp::create(b, buffer.getType(), stored, buffer, ValueRange{index});
  Value value = LLVM::LoadOp::create(b, stored, addr);
  if (element.isInteger(1))
    value = arith::TruncIOp::create(b, element, value);
  return value;
}

Value KernelEmitter::guardedLoad(Value ptr, Type type, Value mask, Value other) {
  if (!mask)
    return LLVM::LoadOp::create(b, type, ptr);
  auto branch = scf::IfOp::create(b, TypeRange{type}, mask, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(branch.thenBlock());
    scf::YieldOp::create(b, ValueRange{LLVM::LoadOp::create(b, type, ptr)});
    b.setInsertionPointToStart(branch.elseBlock());
    scf::YieldOp::create(b, ValueRange{other ? other : zeroOf(type)});
  }
  return branch.getResult(0);
}

void KernelEmitter::guardedStore(Value ptr, Value value, Value mask) {
  if (!mask) {
    LLVM::StoreOp::create(b, value, ptr);
    return;
  }
  auto branch = scf::IfOp::create(b, mask, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(branch.thenBlock()->getTerminator());
  LLVM::StoreOp::create(b, value, ptr);
}

void KernelEmitter::planAsyncCopies(func::FuncOp kernel, bool allowResident,
                                    bool allowPipelines) {
  if (dotLowering != DotLowering::mma)
    return;
  const AxisInfoAnalysis axisInfo(kernel);
  const int64_t warps = threads / 32;
  kernel.walk([&](tile::DotOp dot) {
    if (!chooseMmaSyncLayout(dot, warps))
      return;
    AsyncDotPlan plan{planAsyncOperand(dot, 0, axisInfo), planAsyncOperand(dot, 1, axisInfo)};
    for (std::optional<AsyncOperandCopy> *copy : {&plan.a, &plan.b}) {
      if (*copy && (*copy)->resident && !allowResident)
        copy->reset();
      // The copies read pointers and masks slot by slot in round-robin.
      if (*copy && (!layoutFor((*copy)->load.getPtr()).isRoundRobin() ||
                    ((*copy)->load.getMask() && !layoutFor((*copy)->load.getMask()).isRoundRobin())))
        copy->reset();
    }
    std::optional<MmaSyncDotLayout> layout =
        chooseMmaSyncLayout(dot, warps, nullptr, plan.bTransposed(),
                            swizzleCopies && plan.a, swizzleCopies && plan.b);
    if (!plan.a && !plan.b)
      return;
    auto reserve = [&](const AsyncOperandCopy &copy, int64_t rows, int64_t stride,
                       bool swizzled) {
      residentCopies[copy.load] = {copy, residentBytes, stride, swizzled};
      residentBytes += llvm::alignTo(rows * stride * 2, kAsyncCopyBytes);
    };
    if (plan.a && plan.a->resident)
      reserve(*plan.a, layout->m, layout->aStride, layout->aSwizzled);
    if (plan.b && plan.b->resident)
      reserve(*plan.b, plan.bTransposed() ? layout->n : layout->k, layout->bStride,
              layout->bSwizzled);
    for (const std::optional<AsyncOperandCopy> &copy : {plan.a, plan.b})
      if (copy)
        asyncLoads.insert(copy->load);
    asyncDots[dot] = plan;
    // An operand loaded in the body of the dot's loop, which asks for stages.
    auto loop = dyn_cast<scf::ForOp>(dot->getParentOp());
    auto stages = loop ? loop->getAttrOfType<IntegerAttr>("tile.num_stages") : IntegerAttr();
    if (!allowPipelines || !stages || stages.getInt() < 2 ||
        !loop.getInductionVar().getType().isInteger(32))
      return;
    auto pipeline = [&](const AsyncOperandCopy &copy, int64_t rows, int64_t stride,
                        bool swizzled) {
      if (copy.resident || copy.load->getBlock() != dot->getBlock())
        return;
      Pipeline &p = pipelines[loop];
      p.stages = stages.getInt();
      p.copies.push_back(
          {copy, 0, stride, swizzled,
           static_cast<int64_t>(llvm::alignTo(rows * stride * 2, kAsyncCopyBytes))});
    };
    if (plan.a)
      pipeline(*plan.a, layout->m, layout->aStride, layout->aSwizzled);
    if (plan.b)
      pipeline(*plan.b, plan.bTransposed() ? layout->n : layout->k, layout->bStride,
               layout->bSwizzled);
  });
  // The wait before a dot counts the groups committed after its stage's: a
  // nested loop committing groups would make that count dynamic.
  for (auto it = pipelines.begin(); it != pipelines.end();) {
    bool nestedCopies = false;
    it->first->walk([&](scf::ForOp inner) {
      if (inner != it->first)
        inner.walk([&](tile::DotOp dot) { nestedCopies |= asyncDots.contains(dot); });
    });
    it = nestedCopies ? pipelines.erase(it) : std::next(it);
  }
  for (auto &[loop, p] : pipelines)
    for (PipelinedCopy &copy : p.copies) {
      copy.offset = pipelineBytes;
      pipelineBytes += p.stages * copy.regionBytes;
      pipelinedLoads[copy.copy.load] = loop;
    }
}

LogicalResult KernelEmitter::emitBlock(Block &block) {
  for (Operation &op : block.without_terminator())
    if (failed(emitOp(&op)))
      return failure();
  return success();
}

/// The i32 special register (%ctaid, %nctaid) of one grid axis.
template <typename XOp, typename YOp, typename ZOp>
Value readAxisRegister(ImplicitLocOpBuilder &b, tile::ProgramAxis axis) {
  Type i32 = b.getI32Type();
  switch (axis) {
  case tile::ProgramAxis::x:
    return XOp::create(b, i32);
  case tile::ProgramAxis::y:
    return YOp::create(b, i32);
  case tile::ProgramAxis::z:
    return ZOp::create(b, i32);
  }
  llvm_unreachable("unknown grid axis");
}

LogicalResult KernelEmitter::emitOp(Operation *op) {
  b.setLoc(op->getLoc());
  operandViews.clear();
  // Element-wise ops, pointers, loads and stores work in one layout: their
  // result's (a store's: storeLayout); operands in others are viewed in it.
  const bool elementwise =
      isa<tile::AddPtrOp, tile::LoadOp>(op) ||
      (isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) &&
       llvm::any_of(op->getResultTypes(), [](Type t) { return isa<RankedTensorType>(t); }));
  if (elementwise || isa<tile::StoreOp>(op)) {
    const ValueLayout working = isa<tile::StoreOp>(op) ? storeLayout(cast<tile::StoreOp>(op))
                                                       : layoutFor(op->getResult(0));
    for (Value operand : op->getOperands())
      viewIn(operand, working);
  }
  if (auto id = dyn_cast<tile::ProgramIdOp>(op)) {
    scalars.map(id.getResult(),
                readAxisRegister<NVVM::BlockIdXOp, NVVM::BlockIdYOp, NVVM::BlockIdZOp>(b, id.getAxis()));
    return success();
  }
  if (auto n = dyn_cast<tile::NumProgramsOp>(op)) {
    scalars.map(n.getResult(),
                readAxisRegister<NVVM::GridDimXOp, NVVM::GridDimYOp, NVVM::GridDimZOp>(b, n.getAxis()));
    return success();
  }
  if (auto range = dyn_cast<tile::MakeRangeOp>(op)) {
    const TileLayout layout = layoutOf(range.getType());
    auto &slots = tiles[range.getResult()];
    for (int64_t slot = 0; slot < layout.slots(); ++slot)
      slots.push_back(arith::AddIOp::create(b, layout.linearIndex(b, tid, slot),
                                            constantI32(b, range.getStart())));
    return success();
  }
  if (auto splat = dyn_cast<tile::SplatOp>(op)) {
    tiles[splat.getResult()].assign(layoutOf(splat.getType()).slots(),
                                    scalars.lookup(splat.getSrc()));
    return success();
  }
  // Round-robin depends only on the row-major linear index, and the rows
  // layout holds [M] and [M, 1] alike: these move nothing.
  if (isa<tile::ExpandDimsOp, tile::ReshapeOp>(op)) {
    if (layoutFor(op->getResult(0)).isRoundRobin())
      viewIn(op->getOperand(0), ValueLayout::roundRobin());
    tiles[op->getResult(0)] = SmallVector<Value>(viewSlots(op->getOperand(0)));
    return success();
  }
  if (auto broadcast = dyn_cast<tile::BroadcastOp>(op))
    return emitBroadcast(broadcast);
  if (auto addptr = dyn_cast<tile::AddPtrOp>(op))
    return emitAddPtr(addptr);
  if (auto load = dyn_cast<tile::LoadOp>(op))
    return emitLoad(load);
  if (auto store = dyn_cast<tile::StoreOp>(op))
    return emitStore(store);
  if (auto atomic = dyn_cast<tile::AtomicAddOp>(op))
    return emitAtomicAdd(atomic);
  if (isa<tile::BarrierOp>(op))
    return emitProgramBarrier(b), success();
  if (auto reduce = dyn_cast<tile::ReduceOp>(op)) {
    if (layoutFor(reduce.getResult()).kind == ValueLayout::Kind::mmaRows)
      return emitRowReduction(reduce);
    viewIn(reduce.getSrc(), ValueLayout::roundRobin());
    return emitReduction(op, reduce.getSrc(), reduce.getAxis(), reduce.getKind(), false);
  }
  if (auto argmax = dyn_cast<tile::ArgMaxOp>(op)) {
    viewIn(argmax.getSrc(), ValueLayout::roundRobin());
    return emitReduction(op, argmax.getSrc(), argmax.getAxis(), tile::ReduceKind::max, true);
  }
  if (auto dot = dyn_cast<tile::DotOp>(op))
    return emitDot(dot);
  if (auto constant = dyn_cast<arith::ConstantOp>(op))
    return emitConstant(constant);
  if (auto loop = dyn_cast<scf::ForOp>(op))
    return emitFor(loop);
  if (isa<arith::ArithDialect, math::MathDialect>(op->getDialect()))
    return emitElementwise(op);
  return op->emitOpError("is not supported by convert-tile-to-nvvm");
}

/// exp2 and log2 of f32 map to the PTX approximations (ex2.approx.f32,
/// lg2.approx.f32: relative error below 2^-22) rather than to LLVM's generic
/// intrinsics, which the NVPTX backend would turn into libdevice calls or reject.
FailureOr<Value> emitApproxMath(ImplicitLocOpBuilder &b, Operation *op, ValueRange operands) {
  const char *intrinsic = isa<math::Exp2Op>(op)   ? "llvm.nvvm.ex2.approx.f32"
                          : isa<math::Log2Op>(op) ? "llvm.nvvm.lg2.approx.f"
                                                  : nullptr;
  if (!intrinsic)
    return Value();
  if (!operands[0].getType().isF32())
    return op->emitOpError("is lowered for f32 only (got ") << operands[0].getType() << ")";
  return LLVM::CallIntrinsicOp::create(b, b.getF32Type(), b.getStringAttr(intrinsic), operands)
      .getResult(0);
}

LogicalResult KernelEmitter::emitElementwise(Operation *op) {
  const bool onTiles = llvm::any_of(op->getResultTypes(), [](Type t) {
    return isa<RankedTensorType>(t);
  });
  if (!onTiles) {
    SmallVector<Value> operands;
    for (Value operand : op->getOperands())
      operands.push_back(scalars.lookup(operand));
    FailureOr<Value> approx = emitApproxMath(b, op, operands);
    if (failed(approx))
      return failure();
    if (*approx)
      scalars.map(op->getResult(0), *approx);
    else
      b.clone(*op, scalars);
    return success();
  }
  if (op->getNumRegions() != 0)
    return op->emitOpError("with regions cannot be applied elementwise to tiles");
  const int64_t slots = slotCount(layoutFor(op->getResult(0)), op->getResult(0).getType());
  SmallVector<Type> resultTypes;
  for (Type t : op->getResultTypes())
    resultTypes.push_back(scalarType(t));
  for (int64_t slot = 0; slot < slots; ++slot) {
    SmallVector<Value> operands;
    for (Value operand : op->getOperands())
      operands.push_back(at(operand, slot));
    FailureOr<Value> approx = emitApproxMath(b, op, operands);
    if (failed(approx))
      return failure();
    if (*approx) {
      tiles[op->getResult(0)].push_back(*approx);
      continue;
    }
    OperationState state(op->getLoc(), op->getName(), operands, resultTypes, op->getAttrs());
    Operation *scalarOp = b.create(state);
    for (auto [from, to] : llvm::zip(op->getResults(), scalarOp->getResults()))
      tiles[from].push_back(to);
  }
  return success();
}

LogicalResult KernelEmitter::emitConstant(arith::ConstantOp op) {
  auto tensor = dyn_cast<RankedTensorType>(op.getType());
  if (!tensor) {
    b.clone(*op, scalars);
    return success();
  }
  auto dense = dyn_cast<SplatElementsAttr>(op.getValue());
  if (!dense)
    return op.emitOpError("a non-splat constant tile is not supported yet");
  auto element = cast<TypedAttr>(dense.getSplatValue<Attribute>());
  Value scalar = arith::ConstantOp::create(b, element);
  tiles[op.getResult()].assign(layoutOf(tensor).slots(), scalar);
  return success();
}

LogicalResult KernelEmitter::emitFor(scf::ForOp op) {
  // Tiles carried by the loop travel as one iter_arg per slot, in the layout
  // the analysis settled on for them.
  SmallVector<Value> inits;
  for (auto [init, arg] : llvm::zip(op.getInitArgs(), op.getRegionIterArgs())) {
    if (isTile(init))
      llvm::append_range(inits, convert(init, layoutFor(arg)));
    else
      inits.push_back(scalars.lookup(init));
  }
  Value lb = scalars.lookup(op.getLowerBound()), step = scalars.lookup(op.getStep());
  // A pipelined loop (`tile.num_stages` = S): the prologue issues the copies of
  // its first S - 1 iterations into stages 0 .. S - 2 of their rings, a group
  // each (empty where the loop is shorter).
  Pipeline *pipeline = nullptr;
  if (auto it = pipelines.find(op); it != pipelines.end()) {
    pipeline = &it->second;
    for (int64_t s = 0; s + 1 < pipeline->stages && !pipeline->copies.empty(); ++s) {
      Value iv = s == 0 ? lb
                        : arith::AddIOp::create(
                              b, lb, arith::MulIOp::create(b, step, constantI32(b, s)));
      emitPipelinedCopies(op, iv, constantI32(b, s), /*probe=*/s == 0);
      if (!pipeline->copies.empty())
        commitGroup();
    }
    if (pipeline->copies.empty())
      pipeline = nullptr;
  }
  auto loop = scf::ForOp::create(b, lb, scalars.lookup(op.getUpperBound()), step, inits);
  // Without iter_args, scf.for's builder ends the body with an implicit scf.yield;
  // the loop's own yield (built below) replaces it.
  if (!loop.getBody()->empty() && isa<scf::YieldOp>(loop.getBody()->back()))
    loop.getBody()->back().erase();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(loop.getBody());
  scalars.map(op.getInductionVar(), loop.getInductionVar());
  auto unflatten = [&](ValueRange from, ValueRange flat) {
    size_t next = 0;
    for (Value v : from) {
      if (isTile(v)) {
        const int64_t n = slotCount(layoutFor(v), v.getType());
        tiles[v] = SmallVector<Value>(flat.slice(next, n));
        next += n;
      } else {
        scalars.map(v, flat[next++]);
      }
    }
  };
  unflatten(op.getRegionIterArgs(), loop.getRegionIterArgs());
  Pipeline *outer = activePipeline;
  if (pipeline) {
    // Iteration i first issues iteration i + S - 1's copies into the stage
    // iteration i - 1 read: every thread is past those reads, since each dot
    // ends with a barrier.
    const int64_t ahead = pipeline->stages - 1;
    Value iv = loop.getInductionVar();
    Value next = arith::AddIOp::create(b, iv, arith::MulIOp::create(b, step, constantI32(b, ahead)));
    // scf.for's step is positive and iv >= lb: unsigned division is exact.
    Value iteration = arith::DivUIOp::create(b, arith::SubIOp::create(b, iv, lb), step);
    emitPipelinedCopies(op, next, pipelineStage(iteration, ahead, pipeline->stages),
                        /*probe=*/false);
    commitGroup();
    pipeline->stage = pipelineStage(iteration, 0, pipeline->stages);
    pipeline->commitsSincePrefetch = 0;
  }
  activePipeline = pipeline ? pipeline : outer;
  LogicalResult body = emitBlock(*op.getBody());
  activePipeline = outer;
  if (failed(body))
    return failure();
  auto yield = cast<scf::YieldOp>(op.getBody()->getTerminator());
  SmallVector<Value> yielded;
  for (auto [v, arg] : llvm::zip(yield.getOperands(), op.getRegionIterArgs())) {
    if (isTile(v))
      llvm::append_range(yielded, convert(v, layoutFor(arg)));
    else
      yielded.push_back(scalars.lookup(v));
  }
  b.setLoc(yield.getLoc());
  scf::YieldOp::create(b, yielded);
  unflatten(op.getResults(), loop.getResults());
  return success();
}

LogicalResult KernelEmitter::emitBroadcast(tile::BroadcastOp op) {
  const ValueLayout to = layoutFor(op.getResult());
  if (to.kind == ValueLayout::Kind::mmaAcc) {
    // [M, 1] rows to an accumulator on the same warps along M: each slot takes
    // its row's value. The rows are copied first: inserting the result into
    // `tiles` may grow it and move the source's slots.
    const SmallVector<Value> rows(viewSlots(op.getSrc()));
    auto &slots = tiles[op.getResult()];
    for (int64_t slot = 0; slot < to.slots(); ++slot)
      slots.push_back(rows[to.rowsSlotOf(slot)]);
    return success();
  }
  viewIn(op.getSrc(), ValueLayout::roundRobin());
  auto srcType = cast<RankedTensorType>(op.getSrc().getType());
  const TileLayout dst = layoutOf(op.getType());
  Value buffer = stageInSharedMemory(op.getSrc());
  Type element = scalarType(srcType);
  auto &slots = tiles[op.getResult()];
  for (int64_t slot = 0; slot < dst.slots(); ++slot) {
    Value linear = dst.clampedLinearIndex(b, tid, slot); // empty slots read element 0
    SmallVector<Value> index = dst.delinearize(b, linear);
    for (auto [d, size] : llvm::enumerate(srcType.getShape()))
      if (size == 1)
        index[d] = constantI32(b, 0);
    slots.push_back(
        loadStaged(buffer, element, TileLayout::linearize(b, index, srcType.getShape())));
  }
  return success();
}

LogicalResult KernelEmitter::emitAddPtr(tile::AddPtrOp op) {
  Type pointee = cast<tile::PointerType>(getElementTypeOrSelf(op.getPtr().getType())).getPointeeType();
  Type ptrType = scalarType(op.getType());
  if (!isTile(op.getResult())) {
    scalars.map(op.getResult(), LLVM::GEPOp::create(b, ptrType, pointee, scalars.lookup(op.getPtr()),
                                                    ValueRange{scalars.lookup(op.getOffset())}));
    return success();
  }
  auto &slots = tiles[op.getResult()];
  for (int64_t slot = 0; slot < slotCount(layoutFor(op.getResult()), op.getType()); ++slot)
    slots.push_back(LLVM::GEPOp::create(b, ptrType, pointee, at(op.getPtr(), slot),
                                        ValueRange{at(op.getOffset(), slot)}));
  return success();
}

LogicalResult KernelEmitter::emitLoad(tile::LoadOp op) {
  if (auto resident = residentCopies.find(op); resident != residentCopies.end()) {
    // Copied here into its own region: this thread's copies of the previous
    // visit are complete and every thread is past its reads of them.
    NVVM::CpAsyncWaitGroupOp::create(b, 0);
    NVVM::Barrier0Op::create(b);
    emitAsyncCopy(resident->second.copy, residentArea(resident->second.offset),
                  resident->second.stride, resident->second.swizzled);
    commitGroup();
    return success();
  }
  if (pipelinedLoads.contains(op)) // copied ahead by its loop
    return success();
  if (asyncLoads.contains(op)) { // its dot copies it by cp.async
    pendingCopies[op] = {NVVM::Barrier0Op::create(b).getOperation()};
    return success();
  }
  Type type = scalarType(op.getType());
  if (!isTile(op.getResult())) {
    Value mask = op.getMask() ? scalars.lookup(op.getMask()) : Value();
    Value other = op.getOther() ? scalars.lookup(op.getOther()) : Value();
    scalars.map(op.getResult(), guardedLoad(scalars.lookup(op.getPtr()), type, mask, other));
    return success();
  }
  const TileLayout layout = layoutOf(op.getType());
  auto &slots = tiles[op.getResult()];
  for (int64_t slot = 0; slot < layout.slots(); ++slot) {
    Value mask = andMasks(op.getMask() ? at(op.getMask(), slot) : Value(),
                          layout.validity(b, tid, slot));
    Value other = op.getOther() ? at(op.getOther(), slot) : Value();
    slots.push_back(guardedLoad(at(op.getPtr(), slot), type, mask, other));
  }
  return success();
}

LogicalResult KernelEmitter::emitStore(tile::StoreOp op) {
  if (!isTile(op.getValue())) {
    // Every thread holds the scalar; thread 0 alone writes it.
    Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, tid, constantI32(b, 0));
    Value mask = andMasks(op.getMask() ? scalars.lookup(op.getMask()) : Value(), first);
    guardedStore(scalars.lookup(op.getPtr()), scalars.lookup(op.getValue()), mask);
    return success();
  }
  const TileLayout layout = layoutOf(op.getValue().getType());
  const ValueLayout working = storeLayout(op);
  for (int64_t slot = 0; slot < slotCount(working, op.getValue().getType()); ++slot) {
    Value mask = op.getMask() ? at(op.getMask(), slot) : Value();
    if (working.isRoundRobin()) // mma layouts own every element once
      mask = andMasks(mask, layout.validity(b, tid, slot));
    guardedStore(at(op.getPtr(), slot), at(op.getValue(), slot), mask);
  }
  return success();
}

// Round-robin owns each element once; its empty slots are masked off
// (AtomicAddToNVVM.h emits one element).
LogicalResult KernelEmitter::emitAtomicAdd(tile::AtomicAddOp op) {
  for (Value operand : op->getOperands())
    viewIn(operand, ValueLayout::roundRobin());
  const TileLayout layout = layoutOf(op.getValue().getType());
  auto &slots = tiles[op.getResult()];
  for (int64_t slot = 0; slot < layout.slots(); ++slot) {
    Value mask = andMasks(op.getMask() ? at(op.getMask(), slot) : Value(),
                          layout.validity(b, tid, slot));
    slots.push_back(emitGuardedAtomicAdd(b, at(op.getPtr(), slot), at(op.getValue(), slot), mask));
  }
  return success();
}

LogicalResult KernelEmitter::emitReduction(Operation *op, Value src, int64_t axis,
                                           tile::ReduceKind kind, bool withIndex) {
  auto srcType = cast<RankedTensorType>(src.getType());
  if (std::optional<ShuffleReductionPlan> plan = chooseShuffleReduction(srcType, axis, threads)) {
    emitShuffleReduction(op, src, *plan, kind, withIndex);
    return success();
  }
  // Staged: every owner of a result element loops over the axis in a copy.
  Type element = scalarType(srcType);
  const int64_t extent = srcType.getDimSize(axis);
  // Along the last axis, the 32 lanes of a warp read 32 rows at the same column:
  // with a row stride of `extent` (a power of two) they would all hit one or a few
  // banks. One element of padding per row makes the stride odd, so they hit 32.
  const bool alongRows = axis + 1 == srcType.getRank() && srcType.getRank() > 1;
  const int64_t rowPadding = alongRows && extent % 2 == 0 ? 1 : 0;
  Value buffer = stageInSharedMemory(src, 0, rowPadding);
  SmallVector<int64_t> resultShape(srcType.getShape());
  resultShape.erase(resultShape.begin() + axis);

  // Reduces along `axis` at the result position `index` (one value per other dim).
  auto reduceAt = [&](SmallVector<Value> index) -> std::pair<Value, Value> {
    index.insert(index.begin() + axis, Value());
    Value init = withIndex ? reductionInit(b, element, tile::ReduceKind::max)
                           : reductionInit(b, element, kind);
    SmallVector<Value> inits{init};
    if (withIndex)
      inits.push_back(constantI32(b, 0));
    auto loop = scf::ForOp::create(b, constantI32(b, 0), constantI32(b, extent), constantI32(b, 1),
                                   inits);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    index[axis] = loop.getInductionVar();
    Value x = loadStaged(
        buffer, element,
        paddedIndex(b, TileLayout::linearize(b, index, srcType.getShape()),
                    srcType.getShape().back(), rowPadding));
    Value acc = loop.getRegionIterArgs()[0];
    if (!withIndex) {
      scf::YieldOp::create(b, ValueRange{reductionStep(b, kind, acc, x)});
    } else {
      // Strictly greater: among equal maxima the first (lowest index) stays.
      Value better = isa<FloatType>(element)
                         ? arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x, acc).getResult()
                         : arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, x, acc).getResult();
      Value value = arith::SelectOp::create(b, better, x, acc);
      Value where = arith::SelectOp::create(b, better, loop.getInductionVar(),
                                            loop.getRegionIterArgs()[1]);
      scf::YieldOp::create(b, ValueRange{value, where});
    }
    b.setInsertionPointAfter(loop);
    return {loop.getResult(0), withIndex ? loop.getResult(1) : Value()};
  };

  if (resultShape.empty()) { // a 1-D tile reduces to a scalar every thread holds
    auto [value, index] = reduceAt({});
    scalars.map(op->getResult(0), value);
    if (withIndex)
      scalars.map(op->getResult(1), index);
    return success();
  }
  auto resultType = RankedTensorType::get(resultShape, srcType.getElementType());
  const TileLayout result = layoutOf(resultType);
  for (int64_t slot = 0; slot < result.slots(); ++slot) {
    Value linear = result.clampedLinearIndex(b, tid, slot);
    auto [value, index] = reduceAt(result.delinearize(b, linear));
    tiles[op->getResult(0)].push_back(value);
    if (withIndex)
      tiles[op->getResult(1)].push_back(index);
  }
  return success();
}

/// Warp shuffles (ShuffleReduction.h): each thread combines its slots of a row,
/// transposed butterflies combine each warp's pieces of its rows, and one lane
/// per piece writes it to shared memory, where the result's owners combine the
/// pieces.
/// The exchange keeps the staging discipline: barrier (the previous site's reads
/// are over); stores; barrier; reads.
void KernelEmitter::emitShuffleReduction(Operation *op, Value src,
                                         const ShuffleReductionPlan &plan,
                                         tile::ReduceKind kind, bool withIndex) {
  Type element = scalarType(src.getType());
  const int64_t span = std::min(plan.rowLength, plan.threads); // columns of one slot
  Value column0 = arith::AndIOp::create(b, tid, constantI32(b, span - 1));

  SmallVector<ReductionPartial> groups;
  for (int64_t g = 0; g < plan.groups; ++g) {
    ReductionPartial partial;
    for (int64_t k = 0; k < plan.slotsPerRow; ++k) {
      Value column = k == 0 ? column0
                            : arith::AddIOp::create(b, column0, constantI32(b, k * plan.threads));
      ReductionPartial next =
          elementPartial(b, withIndex, at(src, g * plan.slotsPerRow + k), column);
      partial = k == 0 ? next : combinePartials(b, kind, withIndex, partial, next);
    }
    groups.push_back(partial);
  }
  // Chunks of groups through one transposed butterfly each; a lane ends with
  // the partial of group first + (laneInSegment >> (log2(width) - log2(size))).
  struct Chunk {
    int64_t first, size;
    ReductionPartial partial;
  };
  SmallVector<Chunk> chunks;
  for (int64_t first = 0; first < plan.groups;) {
    const int64_t size = chunkSize(plan, plan.groups - first);
    chunks.push_back({first, size,
                      emitButterfly(b, plan, kind, withIndex,
                                    ArrayRef(groups).slice(first, size), tid)});
    first += size;
  }

  // Partial (row r, part p) at p * partStride + r + r / 32 (ShuffleReduction.h).
  auto padded = [&](Value row) -> Value {
    if (plan.rows <= 32)
      return row;
    return arith::AddIOp::create(b, row, arith::ShRUIOp::create(b, row, constantI32(b, 5)));
  };
  Value values = stagingArea(0, plan.partialBytes());
  Value columns = withIndex ? stagingArea(llvm::alignTo(plan.partialBytes(), 16),
                                          plan.partialBytes())
                            : Value();
  Value laneInSegment = arith::AndIOp::create(b, tid, constantI32(b, plan.shuffleWidth - 1));
  Value rowInSlot = arith::DivUIOp::create(b, tid, constantI32(b, span));
  Value part = arith::DivUIOp::create(b, column0, constantI32(b, 32)); // 0 when N <= 32
  Value partBase = arith::MulIOp::create(b, part, constantI32(b, plan.partStride()));
  NVVM::Barrier0Op::create(b);
  for (const Chunk &chunk : chunks) {
    // The lanes sharing a group hold the same partial; the lowest one writes.
    const int64_t lanesPerGroup = plan.shuffleWidth / chunk.size;
    Value leader = arith::CmpIOp::create(
        b, arith::CmpIPredicate::eq,
        arith::AndIOp::create(b, laneInSegment, constantI32(b, lanesPerGroup - 1)),
        constantI32(b, 0));
    Value group = arith::AddIOp::create(
        b, arith::DivUIOp::create(b, laneInSegment, constantI32(b, lanesPerGroup)),
        constantI32(b, chunk.first));
    Value row = arith::AddIOp::create(
        b, arith::MulIOp::create(b, group, constantI32(b, plan.rowsPerSlot)), rowInSlot);
    Value mask = leader;
    if ((chunk.first + chunk.size) * plan.rowsPerSlot > plan.rows) { // rows past R
      Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row,
                                          constantI32(b, plan.rows));
      row = arith::SelectOp::create(b, valid, row, constantI32(b, 0)); // address in bounds
      mask = arith::AndIOp::create(b, mask, valid);
    }
    Value index = arith::AddIOp::create(b, partBase, padded(row));
    guardedStore(LLVM::GEPOp::create(b, values.getType(), element, values, ValueRange{index}),
                 chunk.partial.value, mask);
    if (withIndex)
      guardedStore(LLVM::GEPOp::create(b, columns.getType(), b.getI32Type(), columns,
                                       ValueRange{index}),
                   chunk.partial.column, mask);
  }
  NVVM::Barrier0Op::create(b);

  const TileLayout result = layoutOf(op->getResult(0).getType());
  for (int64_t slot = 0; slot < result.slots(); ++slot) {
    Value row = padded(result.clampedLinearIndex(b, tid, slot)); // empty slots read row 0
    ReductionPartial acc;
    for (int64_t p = 0; p < plan.warpsPerRow; ++p) {
      Value index =
          p == 0 ? row : arith::AddIOp::create(b, row, constantI32(b, p * plan.partStride()));
      ReductionPartial next{loadStaged(values, element, index),
                            withIndex ? loadStaged(columns, b.getI32Type(), index) : Value()};
      acc = p == 0 ? next : combinePartials(b, kind, withIndex, acc, next);
    }
    tiles[op->getResult(0)].push_back(acc.value);
    if (withIndex)
      tiles[op->getResult(1)].push_back(acc.column);
  }
}

LogicalResult KernelEmitter::emitRowReduction(tile::ReduceOp op) {
  const ValueLayout acc = layoutFor(op.getSrc());
  const MmaFrame &f = frameFor(acc.warpsM);
  ArrayRef<Value> src = viewSlots(op.getSrc());
  const tile::ReduceKind kind = op.getKind();
  // Row g + 8 h of m tile i: the lane's 2 nPerWarp slots of it, in order.
  SmallVector<Value> partials;
  for (int64_t i = 0; i < acc.mPerWarp(); ++i)
    for (int64_t h = 0; h < 2; ++h) {
      Value partial;
      for (int64_t j = 0; j < acc.nPerWarp(); ++j)
        for (int64_t c = 0; c < 2; ++c) {
          Value x = src[acc.accSlot(i, j, 2 * h + c)];
          partial = partial ? reductionStep(b, kind, partial, x) : x;
        }
      partials.push_back(partial);
    }
  // The row's quad (lanes 4 g .. 4 g + 3): butterflies at xor 1 and 2. Each
  // combining step is commutative, so the four lanes end with the same value.
  Value allLanes = constantI32(b, -1), clamp = constantI32(b, 31);
  for (int64_t offset : {1, 2})
    for (Value &partial : partials) {
      Value other = NVVM::ShflOp::create(b, partial.getType(), allLanes, partial,
                                         constantI32(b, offset), clamp, NVVM::ShflKind::bfly,
                                         UnitAttr());
      partial = reductionStep(b, kind, partial, other);
    }
  if (acc.warpsN > 1) {
    // The warpsN warps of a row: one lane per row and warp writes its partial
    // at warpN * M + row; every lane combines the parts in order 0, 1, ...
    Type element = partials.front().getType();
    Value buffer = stagingArea(0, acc.warpsN * acc.m * 4);
    CoordCache cache;
    SmallVector<Value> rowOf;
    for (int64_t slot = 0; slot < static_cast<int64_t>(partials.size()); ++slot)
      rowOf.push_back(slotCoords(acc.rows(), {acc.m}, slot, cache)[0]);
    Value partBase = arith::MulIOp::create(b, f.warpN, constantI32(b, acc.m));
    NVVM::Barrier0Op::create(b);
    for (auto [row, partial] : llvm::zip(rowOf, partials)) {
      Value index = arith::AddIOp::create(b, partBase, row);
      guardedStore(LLVM::GEPOp::create(b, buffer.getType(), element, buffer, ValueRange{index}),
                   partial, f.quadLeader);
    }
    NVVM::Barrier0Op::create(b);
    for (auto [row, partial] : llvm::zip(rowOf, partials)) {
      Value combined;
      for (int64_t p = 0; p < acc.warpsN; ++p) {
        Value index = p == 0 ? row : arith::AddIOp::create(b, row, constantI32(b, p * acc.m));
        Value part = loadStaged(buffer, element, index);
        combined = p == 0 ? part : reductionStep(b, kind, combined, part);
      }
      partial = combined;
    }
  }
  tiles[op.getResult()] = partials;
  return success();
}

LogicalResult KernelEmitter::emitDot(tile::DotOp op) {
  if (dotLowering == DotLowering::mma) { // honoured or refused, never FMA instead
    const AsyncDotPlan plan = asyncDots.lookup(op);
    std::string whyNot;
    if (std::optional<MmaSyncDotLayout> layout =
            chooseMmaSyncLayout(op, threads / 32, &whyNot, plan.bTransposed(),
                                swizzleCopies && plan.a, swizzleCopies && plan.b))
      return emitDotMmaSync(op, *layout, plan);
    return op.emitOpError("cannot be lowered to mma.sync (dot=mma): ") << whyNot;
  }
  for (Value operand : op->getOperands())
    viewIn(operand, ValueLayout::roundRobin());
  // Baseline: stage both operands and let each thread run a K loop per owned
  // result element, with products and sums in the accumulator's type.
  auto aType = cast<RankedTensorType>(op.getA().getType());
  auto bType = cast<RankedTensorType>(op.getB().getType());
  Type accType = scalarType(op.getType());
  if (!isa<FloatType>(accType))
    return op.emitOpError("integer dot is not supported by the baseline lowering yet");
  // Both operands are read in the same K loop: b goes after a, 16-byte aligned.
  const int64_t aBytes =
      llvm::alignTo(aType.getNumElements() * stagedBytes(scalarType(aType)), 16);
  Value aBuffer = stageInSharedMemory(op.getA());
  Value bBuffer = stageInSharedMemory(op.getB(), aBytes);
  const int64_t k = aType.getDimSize(1);
  const TileLayout result = layoutOf(op.getType());
  auto widen = [&](Value v) -> Value {
    return v.getType() == accType ? v : arith::ExtFOp::create(b, accType, v).getResult();
  };
  for (int64_t slot = 0; slot < result.slots(); ++slot) {
    Value linear = result.clampedLinearIndex(b, tid, slot);
    SmallVector<Value> mn = result.delinearize(b, linear);
    auto loop = scf::ForOp::create(b, constantI32(b, 0), constantI32(b, k), constantI32(b, 1),
                                   ValueRange{at(op.getAcc(), slot)});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value kk = loop.getInductionVar();
      Value x = loadStaged(aBuffer, scalarType(aType),
                           TileLayout::linearize(b, {mn[0], kk}, aType.getShape()));
      Value y = loadStaged(bBuffer, scalarType(bType),
                           TileLayout::linearize(b, {kk, mn[1]}, bType.getShape()));
      Value sum = math::FmaOp::create(b, widen(x), widen(y), loop.getRegionIterArgs()[0]);
      scf::YieldOp::create(b, ValueRange{sum});
    }
    tiles[op.getResult()].push_back(loop.getResult(0));
  }
  return success();
}

/// Slot s of thread t holds element t + s T of an R x C tile. When every slot
/// holds one (T divides R C) and T and C divide one another, its coordinates
/// are a per-thread pair plus a constant per slot, so its index in a row-major
/// copy with rows of `stride` is one per-thread base plus a constant: the
/// addresses of all slots share one register instead of one each (they are
/// loop invariant, and LLVM would otherwise keep every one live across loops).
Value KernelEmitter::swizzledIndexAt(Value rowBase, int64_t rowConst, Value colBase,
                                     int64_t colConst, int64_t stride, SwizzleCache &cache) {
  const int64_t chunks = stride / 8;
  const int64_t rowPeriod = chunks >= 8 ? 8 : 64 / chunks;
  const int64_t colPeriod = chunks >= 8 ? 64 : stride;
  const int64_t rowRest = rowConst % rowPeriod, colRest = colConst % colPeriod;
  Value &base = cache[{rowRest, colRest}];
  if (!base) {
    auto plus = [&](Value v, int64_t c) -> Value {
      if (!v)
        return constantI32(b, c);
      return c == 0 ? v : arith::AddIOp::create(b, v, constantI32(b, c)).getResult();
    };
    base = stagedIndex(b, plus(rowBase, rowRest), plus(colBase, colRest), stride, true);
  }
  const int64_t offset = (rowConst - rowRest) * stride + (colConst - colRest);
  return offset == 0 ? base : arith::AddIOp::create(b, base, constantI32(b, offset)).getResult();
}

Value KernelEmitter::rowMajorSlotIndex(const TileLayout &layout, int64_t slot, int64_t stride,
                                       Value &base, SwizzleCache *swizzleBases) {
  const int64_t cols = layout.shape()[1];
  const bool affine = layout.elements() % threads == 0 &&
                      (threads % cols == 0 || cols % threads == 0);
  if (swizzleBases) {
    if (!affine) {
      SmallVector<Value> rc = layout.delinearize(b, layout.clampedLinearIndex(b, tid, slot));
      return stagedIndex(b, rc[0], rc[1], stride, true);
    }
    if (threads % cols == 0)
      return swizzledIndexAt(arith::DivUIOp::create(b, tid, constantI32(b, cols)),
                             slot * threads / cols,
                             arith::RemUIOp::create(b, tid, constantI32(b, cols)), 0, stride,
                             *swizzleBases);
    return swizzledIndexAt(Value(), slot * threads / cols, tid, slot * threads % cols, stride,
                           *swizzleBases);
  }
  if (!affine) {
    Value linear = layout.clampedLinearIndex(b, tid, slot); // empty slots name element 0
    SmallVector<Value> rc = layout.delinearize(b, linear);
    return arith::AddIOp::create(b, arith::MulIOp::create(b, rc[0], constantI32(b, stride)),
                                 rc[1]);
  }
  if (!base) {
    if (threads % cols == 0)
      base = arith::AddIOp::create(
          b,
          arith::MulIOp::create(b, arith::DivUIOp::create(b, tid, constantI32(b, cols)),
                                constantI32(b, stride)),
          arith::RemUIOp::create(b, tid, constantI32(b, cols)));
    else
      base = tid;
  }
  const int64_t offset = slot * threads / cols * stride + slot * threads % cols;
  return offset == 0 ? base : arith::AddIOp::create(b, base, constantI32(b, offset)).getResult();
}

void KernelEmitter::storeOwned(Value tileValue, Value buffer, int64_t stride, bool swizzled) {
  if (ValueLayout l = viewLayout(tileValue); !l.isRoundRobin()) {
    storeMmaSlots(viewSlots(tileValue), l, cast<RankedTensorType>(tileValue.getType()), buffer,
                  stride, swizzled);
    return;
  }
  const TileLayout layout = layoutOf(tileValue.getType());
  Type element = scalarType(tileValue.getType());
  Value base;
  SwizzleCache bases;
  for (int64_t slot = 0; slot < layout.slots(); ++slot) {
    Value index = rowMajorSlotIndex(layout, slot, stride, base, swizzled ? &bases : nullptr);
    Value addr = LLVM::GEPOp::create(b, buffer.getType(), element, buffer, ValueRange{index});
    guardedStore(addr, at(tileValue, slot), layout.validity(b, tid, slot));
  }
}

/// Each 16-byte run of the load (8 elements along `copy.axis`, aligned, with one
/// mask value: AsyncCopy.h) is copied with cp.async; a run the mask turns off
/// is zero-filled (src-size 0 reads nothing). Runs are spread evenly over the
/// threads with pointers recomputed per run (emitAsyncCopyByRuns) where the
/// pointer tile allows; otherwise (rows gathered by loaded indices) the thread
/// that holds a run's first element in the round-robin layout copies it, from
/// that element's pointer: 1 thread in 8 works.
///
/// Slot s of thread t holds element t + s T of an R x C tile. When T and C
/// divide one another (both are powers of two for the templates' tiles), its
/// coordinates are (t div C, t mod C) + (s T div C, s T mod C) if C <= T, else
/// (0, t) + the same constants: the shared address is one per-thread base plus a
/// constant per slot, and whether the slot starts a run depends only on that
/// constant modulo 8. This keeps the copies from holding a register per slot.
void KernelEmitter::emitAsyncCopy(const AsyncOperandCopy &copy, Value buffer, int64_t stride,
                                  bool swizzled) {
  if (emitAsyncCopyByRuns(copy, buffer, stride, swizzled))
    return;
  tile::LoadOp load = copy.load;
  const TileLayout layout = layoutOf(load.getType());
  Type element = scalarType(load.getType());
  const int64_t axis = copy.axis, cols = layout.shape()[1];
  // The staged index of tile coordinates (r, c): rows run along the other axis.
  auto copyIndex = [&](Value r, Value c) -> Value {
    Value row = axis == 1 ? r : c, col = axis == 1 ? c : r;
    return stagedIndex(b, row, col, stride, swizzled);
  };
  auto startsRun = [&](Value coordinate) -> Value {
    return arith::CmpIOp::create(
        b, arith::CmpIPredicate::eq,
        arith::RemUIOp::create(b, coordinate, constantI32(b, kAsyncCopyElements)),
        constantI32(b, 0));
  };
  const bool affine = threads % cols == 0 || cols % threads == 0;
  Value baseRow, baseCol, baseIndex;
  DenseMap<int64_t, Value> runStarts; // by the slot's constant along `axis`, mod 8
  if (affine) {
    baseRow = threads % cols == 0 ? arith::DivUIOp::create(b, tid, constantI32(b, cols)).getResult()
                                  : constantI32(b, 0);
    baseCol = threads % cols == 0 ? arith::RemUIOp::create(b, tid, constantI32(b, cols)).getResult()
                                  : tid;
    baseIndex = copyIndex(baseRow, baseCol);
  }
  for (int64_t slot = 0; slot < layout.slots(); ++slot) {
    Value valid = layout.validity(b, tid, slot);
    Value index, runStart;
    if (affine) {
      const int64_t rowConst = slot * threads / cols, colConst = slot * threads % cols;
      const int64_t axisConst = axis == 1 ? colConst : rowConst;
      Value &start = runStarts[axisConst % kAsyncCopyElements];
      if (!start)
        start = startsRun(arith::AddIOp::create(b, axis == 1 ? baseCol : baseRow,
                                                constantI32(b, axisConst % kAsyncCopyElements)));
      runStart = start;
      const int64_t offset =
          axis == 1 ? rowConst * stride + colConst : colConst * stride + rowConst;
      index = swizzled ? copyIndex(arith::AddIOp::create(b, baseRow, constantI32(b, rowConst)),
                                   arith::AddIOp::create(b, baseCol, constantI32(b, colConst)))
                       : arith::AddIOp::create(b, baseIndex, constantI32(b, offset)).getResult();
    } else {
      SmallVector<Value> rc = layout.delinearize(b, layout.clampedLinearIndex(b, tid, slot));
      runStart = startsRun(rc[axis]);
      index = copyIndex(rc[0], rc[1]);
    }
    auto issue = scf::IfOp::create(b, andMasks(valid, runStart), /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(issue.thenBlock()->getTerminator());
    Value srcSize;
    if (load.getMask())
      srcSize = arith::SelectOp::create(b, at(load.getMask(), slot),
                                        constantI32(b, kAsyncCopyBytes), constantI32(b, 0));
    Value dst = LLVM::GEPOp::create(b, buffer.getType(), element, buffer, ValueRange{index});
    NVVM::CpAsyncOp::create(b, dst, at(load.getPtr(), slot), kAsyncCopyBytes,
                            NVVM::LoadCacheModifierKind::CG, srcSize);
  }
}

Value KernelEmitter::elementAt(Value value, ArrayRef<Value> coords,
                               std::map<std::vector<const void *>, Value> &memo) {
  if (!isTile(value)) {
    // Issuing ahead, the loop's values of this iteration would be wrong: the
    // induction variable is replaced and what depends on it recomputed.
    if (!aheadLoop)
      return scalars.lookupOrNull(value);
    if (value == cast<scf::ForOp>(aheadLoop).getInductionVar())
      return ivReplacement;
    if (!aheadLoop->isAncestor(value.getParentRegion()->getParentOp()))
      return scalars.lookupOrNull(value);
  }
  std::vector<const void *> key{value.getAsOpaquePointer()};
  for (Value c : coords)
    key.push_back(c.getAsOpaquePointer());
  if (auto it = memo.find(key); it != memo.end())
    return it->second;
  Operation *def = value.getDefiningOp();
  Value result;
  if (!def) {
    result = Value(); // a loop-carried tile
  } else if (auto range = dyn_cast<tile::MakeRangeOp>(def)) {
    result = arith::AddIOp::create(b, coords[0], constantI32(b, range.getStart()));
  } else if (auto splat = dyn_cast<tile::SplatOp>(def)) {
    result = elementAt(splat.getSrc(), {}, memo);
  } else if (auto constant = dyn_cast<arith::ConstantOp>(def)) {
    if (auto dense = dyn_cast<SplatElementsAttr>(constant.getValue()))
      result = arith::ConstantOp::create(b, cast<TypedAttr>(dense.getSplatValue<Attribute>()));
    else if (!isTile(value))
      result = arith::ConstantOp::create(b, constant.getValue());
  } else if (auto expand = dyn_cast<tile::ExpandDimsOp>(def)) {
    SmallVector<Value> inner(coords);
    inner.erase(inner.begin() + expand.getAxis());
    result = elementAt(expand.getSrc(), inner, memo);
  } else if (auto broadcast = dyn_cast<tile::BroadcastOp>(def)) {
    SmallVector<Value> inner(coords);
    for (auto [d, size] : llvm::enumerate(cast<RankedTensorType>(broadcast.getSrc().getType()).getShape()))
      if (size == 1)
        inner[d] = constantI32(b, 0);
    result = elementAt(broadcast.getSrc(), inner, memo);
  } else if (auto addptr = dyn_cast<tile::AddPtrOp>(def)) {
    Value ptr = elementAt(addptr.getPtr(), coords, memo);
    Value offset = ptr ? elementAt(addptr.getOffset(), coords, memo) : Value();
    if (ptr && offset) {
      Type pointee = cast<tile::PointerType>(getElementTypeOrSelf(addptr.getPtr().getType()))
                         .getPointeeType();
      result = LLVM::GEPOp::create(b, scalarType(addptr.getType()), pointee, ptr, ValueRange{offset});
    }
  } else if (isRecomputableIntegerOp(def)) {
    SmallVector<Value> operands;
    for (Value operand : def->getOperands()) {
      Value element = elementAt(operand, coords, memo);
      if (!element)
        return memo[key] = Value();
      operands.push_back(element);
    }
    OperationState state(def->getLoc(), def->getName(), operands,
                         TypeRange{scalarType(value.getType())}, def->getAttrs());
    result = b.create(state)->getResult(0);
  }
  return memo[key] = result;
}

bool KernelEmitter::emitAsyncCopyByRuns(const AsyncOperandCopy &copy, Value buffer,
                                        int64_t stride, bool swizzled) {
  tile::LoadOp load = copy.load;
  auto shape = cast<RankedTensorType>(load.getType()).getShape();
  Type element = scalarType(load.getType());
  const int64_t axis = copy.axis, line = shape[axis], lines = shape[1 - axis];
  const int64_t runsPerLine = line / kAsyncCopyElements, runs = runsPerLine * lines;
  // Everything is built in a detached block first: a definition that cannot
  // be recomputed leaves nothing behind.
  Block scratch;
  OpBuilder::InsertPoint resume = b.saveInsertionPoint();
  b.setInsertionPointToEnd(&scratch);
  // With T and runsPerLine dividing one another (powers of two), a run's line
  // and position are one per-thread value plus a constant: the copies share
  // their address arithmetic.
  const bool affine = threads % runsPerLine == 0 || runsPerLine % threads == 0;
  Value baseLine, basePosition;
  if (affine) {
    baseLine = threads % runsPerLine == 0
                   ? arith::DivUIOp::create(b, tid, constantI32(b, runsPerLine)).getResult()
                   : constantI32(b, 0);
    basePosition = arith::MulIOp::create(
        b,
        threads % runsPerLine == 0
            ? arith::RemUIOp::create(b, tid, constantI32(b, runsPerLine)).getResult()
            : tid,
        constantI32(b, kAsyncCopyElements));
  }
  for (int64_t first = 0; first < runs; first += threads) {
    // Run r = tid + first: line r div runsPerLine, elements 8 (r mod runsPerLine)
    // and on along the axis; staged at line x stride + that.
    Value r = arith::AddIOp::create(b, tid, constantI32(b, first));
    Value lineIndex, position;
    if (affine) {
      lineIndex = arith::AddIOp::create(b, baseLine, constantI32(b, first / runsPerLine));
      position = arith::AddIOp::create(
          b, basePosition, constantI32(b, first % runsPerLine * kAsyncCopyElements));
    } else {
      lineIndex = arith::DivUIOp::create(b, r, constantI32(b, runsPerLine));
      position = arith::MulIOp::create(
          b, arith::RemUIOp::create(b, r, constantI32(b, runsPerLine)),
          constantI32(b, kAsyncCopyElements));
    }
    SmallVector<Value> coords =
        axis == 1 ? SmallVector<Value>{lineIndex, position} : SmallVector<Value>{position, lineIndex};
    Value inRange;
    if (first + threads > runs)
      inRange = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, r, constantI32(b, runs));
    // Out-of-range runs (only when T does not divide the run count) compute
    // the address of run 0 and skip the copy.
    if (inRange)
      for (Value &c : coords)
        c = arith::SelectOp::create(b, inRange, c, constantI32(b, 0));
    std::map<std::vector<const void *>, Value> memo;
    Value src = elementAt(load.getPtr(), coords, memo);
    Value mask = load.getMask() ? elementAt(load.getMask(), coords, memo) : Value();
    if (!src || (load.getMask() && !mask)) {
      b.restoreInsertionPoint(resume);
      return false; // `scratch` and what it holds are destroyed
    }
    Value srcSize;
    if (mask)
      srcSize = arith::SelectOp::create(b, mask, constantI32(b, kAsyncCopyBytes), constantI32(b, 0));
    Value index = stagedIndex(b, lineIndex, position, stride, swizzled, /*chunkStart=*/true);
    Value dst = LLVM::GEPOp::create(b, buffer.getType(), element, buffer, ValueRange{index});
    std::optional<OpBuilder::InsertionGuard> guard;
    if (inRange) {
      auto issue = scf::IfOp::create(b, inRange, /*withElseRegion=*/false);
      guard.emplace(b);
      b.setInsertionPoint(issue.thenBlock()->getTerminator());
    }
    NVVM::CpAsyncOp::create(b, dst, src, kAsyncCopyBytes, NVVM::LoadCacheModifierKind::CG, srcSize);
  }
  b.restoreInsertionPoint(resume);
  Block *into = b.getInsertionBlock();
  into->getOperations().splice(b.getInsertionPoint(), scratch.getOperations());
  return true;
}

/// The mma.sync lowering (DotLayout.h): A and B are stored into row-major
/// shared-memory copies (or arrive there by cp.async, or A's fragments come
/// from P's registers), each warp runs ldmatrix + mma.sync on its result tiles,
/// and C and D stay in the accumulator layout's registers (ValueLayout.h) or,
/// without one, go through a staged copy that every thread reads back.
LogicalResult KernelEmitter::emitDotMmaSync(tile::DotOp op, const MmaSyncDotLayout &layout,
                                            const AsyncDotPlan &plan) {
  // With an accumulator layout (ValueLayout.h), C comes from registers, in
  // that layout (converted first: a conversion may stage through the buffer
  // A and B are about to take), and D stays there.
  const ValueLayout accLayout = layoutFor(op.getResult());
  const bool inRegisters = accLayout.kind == ValueLayout::Kind::mmaAcc;
  SmallVector<Value> accIn;
  if (inRegisters)
    accIn = convert(op.getAcc(), accLayout);
  for (Value operand : {op.getA(), op.getB(), op.getAcc()})
    if (viewLayout(operand).kind == ValueLayout::Kind::mmaRows)
      viewIn(operand, ValueLayout::roundRobin());
  // A in the accumulator layout of a 1-column grid on the dot's warps along M
  // (P of flash attention, when S's warp grid is warpsM x 1): its C/D fragments
  // are A's fragments (emitMmaSyncDotInRegisters), no staging.
  const ValueLayout aLayout = viewLayout(op.getA());
  const bool aInRegisters = inRegisters && !plan.a && aLayout.kind == ValueLayout::Kind::mmaAcc &&
                            aLayout.warpsN == 1 && layout.warpsN == 1 &&
                            aLayout.warpsM == layout.warpsM && aLayout.m == layout.m &&
                            aLayout.n == layout.k;
  // Operands in buffers of their own leave the staging buffer to the others.
  auto elsewhere = [&](const std::optional<AsyncOperandCopy> &copy) {
    return copy && (copy->resident || pipelinedLoads.contains(copy->load));
  };
  const MmaSyncDotLayout l = withoutStagedOperands(layout, elsewhere(plan.a) || aInRegisters,
                                                   elsewhere(plan.b), /*cElsewhere=*/inRegisters);
  if (auto over = mmaSyncStagingOverLimit(l, sharedLimit))
    return op.emitOpError("cannot be lowered to mma.sync (dot=mma): ") << *over;
  // Copies that can be issued where their load stood: no staging site since
  // reached into the operand's region.
  llvm::SmallPtrSet<Operation *, 2> early;
  for (auto [copy, offset, stride, swizzled] :
       {std::tuple{plan.a, l.aOffset, l.aStride, l.aSwizzled},
        std::tuple{plan.b, l.bOffset, l.bStride, l.bSwizzled}}) {
    if (!copy || copy->resident)
      continue;
    auto pending = pendingCopies.find(copy->load);
    if (pending == pendingCopies.end())
      continue;
    PendingCopy at = pending->second;
    pendingCopies.erase(pending);
    // Nothing but constants since the load: issuing there gains nothing.
    bool workSince = false;
    for (Operation *o = at.anchor->getNextNode(); o && !workSince; o = o->getNextNode())
      workSince = !isa<arith::ConstantOp>(o);
    if (at.extentSince > offset || !workSince) {
      at.anchor->erase();
      continue;
    }
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointAfter(at.anchor);
    emitAsyncCopy(*copy, stagingAddress(offset), stride, swizzled);
    commitGroup();
    early.insert(copy->load);
  }
  Type operandType = cast<RankedTensorType>(op.getA().getType()).getElementType();
  Value staging = stagingArea(0, l.bytes);
  auto at = [&](int64_t offset) -> Value {
    if (offset == 0)
      return staging;
    return LLVM::GEPOp::create(b, staging.getType(), b.getI8Type(), staging,
                               ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(offset)});
  };
  MmaSyncDotOperands ops{at(l.aOffset), at(l.bOffset), at(l.cOffset), Value(), operandType};
  // A splat accumulator (the usual zeros) goes straight into the fragments. Only
  // a splat is known to be the same in every thread: equal slots within one
  // thread (a tile with one slot per thread) say nothing about the others.
  if (!inRegisters && isa_and_nonnull<tile::SplatOp, arith::ConstantOp>(op.getAcc().getDefiningOp()))
    ops.uniformAcc = viewSlots(op.getAcc()).front();

  NVVM::Barrier0Op::create(b); // the previous staging site's reads are over
  bool issued = false; // cp.async copies issued here
  const Pipeline *pipelined = nullptr; // the loop that copied an operand ahead
  auto stage = [&](const std::optional<AsyncOperandCopy> &copy, Value value, Value &buffer,
                   int64_t stride, bool swizzled) {
    if (!copy) {
      storeOwned(value, buffer, stride, swizzled);
    } else if (auto loop = pipelinedLoads.find(copy->load); loop != pipelinedLoads.end()) {
      pipelined = &pipelines.find(loop->second)->second;
      for (const PipelinedCopy &ahead : pipelined->copies)
        if (ahead.copy.load == copy->load)
          buffer = pipelineRegion(ahead, pipelined->stage);
    } else if (copy->resident) { // copied where it was loaded
      buffer = residentArea(residentCopies.lookup(copy->load).offset);
    } else if (!early.contains(copy->load)) { // else copied where it was loaded
      emitAsyncCopy(*copy, buffer, stride, swizzled);
      issued = true;
    }
  };
  if (aInRegisters)
    ops.aSlots.assign(viewSlots(op.getA()).begin(), viewSlots(op.getA()).end());
  else
    stage(plan.a, op.getA(), ops.aBuffer, l.aStride, l.aSwizzled);
  stage(plan.b, op.getB(), ops.bBuffer, l.bStride, l.bSwizzled);
  if (!inRegisters && !ops.uniformAcc)
    storeOwned(op.getAcc(), ops.cBuffer, l.cStride);
  if (issued)
    commitGroup();
  if (plan.a || plan.b) {
    // Each thread waits for its own copies (resident ones included); the
    // barrier then makes every thread's copies visible to all (PTX ISA
    // 9.7.9.25.3). Copied ahead alone, the operands are in the group of this
    // iteration's stage: the groups committed after it (the S - 1 iterations
    // ahead, and any the body committed since its prefetch) may stay in flight.
    int64_t inFlight = 0;
    if (pipelined && !issued && early.empty())
      inFlight = pipelined->stages - 1 + pipelined->commitsSincePrefetch;
    NVVM::CpAsyncWaitGroupOp::create(b, inFlight);
  }
  NVVM::Barrier0Op::create(b);
  if (inRegisters) {
    tiles[op.getResult()] = emitMmaSyncDotInRegisters(b, l, tid, ops, accIn);
    // The next writers of A's and B's buffers (staging sites, the pipeline's
    // copies ahead) wait for every warp's reads.
    NVVM::Barrier0Op::create(b);
    return success();
  }
  emitMmaSyncDot(b, l, tid, ops);
  NVVM::Barrier0Op::create(b);

  const TileLayout result = layoutOf(op.getType());
  auto &slots = tiles[op.getResult()];
  Value base;
  for (int64_t slot = 0; slot < result.slots(); ++slot) {
    Value index = rowMajorSlotIndex(result, slot, l.cStride, base);
    slots.push_back(loadStaged(ops.cBuffer, b.getF32Type(), index));
  }
  return success();
}

struct ConvertTileToNVVMPass : public impl::ConvertTileToNVVMBase<ConvertTileToNVVMPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    std::optional<DotLowering> dotLowering = parseDotLowering(dot);
    if (!dotLowering) {
      module.emitError() << "convert-tile-to-nvvm: dot = '" << dot
                         << "' is invalid: must be 'fma' or 'mma'";
      return signalPassFailure();
    }
    SmallVector<func::FuncOp> kernels(module.getOps<func::FuncOp>());
    if (kernels.empty())
      return;
    OpBuilder top(module.getBodyRegion());
    top.setInsertionPointToEnd(module.getBody());
    auto gpuModule = gpu::GPUModuleOp::create(top, module.getLoc(), "kernels");

    for (func::FuncOp kernel : kernels) {
      // The kernel's own tile.num_warps (set by its template) wins over the option.
      int64_t warps = numWarps;
      if (auto attr = kernel->getAttrOfType<IntegerAttr>("tile.num_warps"))
        warps = attr.getInt();
      if (failed(tile::verifyNumWarps(warps, [&] { return kernel.emitError(); })))
        return signalPassFailure();
      const int64_t threads = 32 * warps;
      if (kernel.getFunctionType().getNumResults() != 0 || !kernel.getBody().hasOneBlock()) {
        kernel.emitError("a tile kernel returns nothing and has one block");
        return signalPassFailure();
      }
      ImplicitLocOpBuilder b(kernel.getLoc(), context);
      b.setInsertionPointToEnd(gpuModule.getBody());
      SmallVector<Type> argTypes;
      for (Type t : kernel.getArgumentTypes()) {
        if (isa<RankedTensorType>(t)) {
          kernel.emitError("kernel arguments are scalars or pointers, not tiles");
          return signalPassFailure();
        }
        argTypes.push_back(scalarType(t));
      }
      // Resident and pipelined cp.async copies take shared memory beside the
      // staging buffer. With pipelines, or when the kernel asks for it
      // (kDynamicSharedOptIn), the kernel may use dynamic shared memory up to
      // `shared-limit`; otherwise resident copies stay within the static 48 KB.
      // Past that the kernel is emitted again without them.
      const bool mayGoDynamic = kernel->hasAttr(kDynamicSharedOptIn);
      const LayoutAnalysis layouts(kernel, warps, *dotLowering == DotLowering::mma);
      bool allowResident = true, allowPipelines = true;
      while (true) {
        b.setInsertionPointToEnd(gpuModule.getBody());
        auto fn = LLVM::LLVMFuncOp::create(
            b, kernel.getName(),
            LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context), argTypes));
        fn->setAttr(NVVM::NVVMDialect::getKernelFuncAttrName(), UnitAttr::get(context));
        fn->setAttr(NVVM::NVVMDialect::getReqntidAttrName(),
                    DenseI32ArrayAttr::get(context, {static_cast<int32_t>(threads), 1, 1}));
        Block *entry = fn.addEntryBlock(b);
        b.setInsertionPointToStart(entry);
        Value tid = NVVM::ThreadIdXOp::create(b, b.getI32Type());
        KernelEmitter body(b, gpuModule, kernel.getName(), threads, tid, *dotLowering, layouts,
                           swizzle, sharedLimit);
        body.planAsyncCopies(kernel, allowResident, allowPipelines);
        for (auto [from, to] : llvm::zip(kernel.getArguments(), entry->getArguments()))
          body.mapArgument(from, to);
        if (failed(body.emitBlock(kernel.getBody().front())))
          return signalPassFailure();
        LLVM::ReturnOp::create(b, ValueRange{});
        const bool over =
            body.hasPipelines() || mayGoDynamic
                ? body.sharedBytes() > sharedLimit
                : body.hasResidentCopies() && body.sharedBytes() > kStaticSharedMemoryBytes;
        if (!allowResident || !over) {
          if (failed(checkSharedMemory(kernel, body.sharedBytes(), sharedLimit)))
            return signalPassFailure();
          body.finishStaging(fn);
          break;
        }
        // Over: drop the pipelines first; without any, the resident copies.
        fn.erase();
        if (body.hasPipelines())
          allowPipelines = false;
        else
          allowResident = allowPipelines = false;
      }
      kernel.erase();
    }
  }
};

} // namespace
} // namespace mobagen::compiler
