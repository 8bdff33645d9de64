// N-API glue for the native kernel set: unwraps JS arguments, checks them, calls native/kernels.
//
// What it is: one exported function per kernel of src/kernels/kernel.ts (same name, same argument
// order; unary/binary ops arrive as their integer codes), plus info(), setThreads(n) and
// setSimd(level) (tests use it to run the AVX2 and portable paths on an AVX-512 machine).
// Every argument is checked (addon-args.h) before any kernel runs: types, sizes, that each buffer
// is long enough for the sizes given, and that indices are in range. Misuse throws a JS Error
// naming the kernel; it never reaches the math, so it cannot crash the process.
// What it is not: the math (native/kernels/*.cc) or any allocation: JS owns every buffer and the
// kernels borrow the pointers for the duration of the call. Typed-array subarrays work as-is
// (napi_get_typedarray_info returns the data pointer already advanced by the byte offset).
#include <node_api.h>

#include <cstdint>
#include <string>

#include "addon-args.h"
#include "kernels/dispatch.h"
#include "kernels/kernels.h"
#include "kernels/threadpool.h"

namespace {

using namespace vlmc_addon;

#define KERNEL(fn) napi_value fn(napi_env env, napi_callback_info info)

// ---------------------------------------------------------------------------------- matmul
KERNEL(Matmul) {
  Args a(env, info, "matmul", 13);
  const int64_t batch = a.size(3, "batch"), M = a.size(4, "M"), N = a.size(5, "N"), K = a.size(6, "K");
  const bool ta = a.flag(7, "transA"), tb = a.flag(8, "transB");
  const int64_t sa = a.size(9, "strideA"), sb = a.size(10, "strideB");
  const double alpha = a.number(11, "alpha"), beta = a.number(12, "beta");
  const double nb = static_cast<double>(batch), last = batch > 0 ? nb - 1 : 0;
  const F32 c = a.f32(0, "c", nb * M * N);
  const F32 A = a.f32(1, "a", batch > 0 ? last * sa + static_cast<double>(M) * K : 0);
  const F32 B = a.f32(2, "b", batch > 0 ? last * sb + static_cast<double>(K) * N : 0);
  if (a.ok()) {
    vlmc::matmul(c.p, A.p, B.p, batch, M, N, K, ta, tb, sa, sb, static_cast<float>(alpha), static_cast<float>(beta));
  }
  return a.finish();
}

// ---------------------------------------------------------------------------------- element-wise
int op_code(Args& a, size_t i, int count) {
  const int64_t op = a.size(i, "op");
  if (a.ok() && op >= count) a.fail("unknown op code " + std::to_string(op));
  return static_cast<int>(op);
}

KERNEL(Unary) {
  Args a(env, info, "unary", 4);
  const int op = op_code(a, 0, vlmc::kUnaryOpCount);
  const int64_t n = a.size(3, "n");
  const F32 out = a.f32(1, "out", n), x = a.f32(2, "x", n);
  if (a.ok()) vlmc::unary(op, out.p, x.p, n);
  return a.finish();
}

KERNEL(UnaryBackward) {
  Args a(env, info, "unaryBackward", 6);
  const int op = op_code(a, 0, vlmc::kUnaryOpCount);
  const int64_t n = a.size(5, "n");
  const F32 dx = a.f32(1, "dx", n), dy = a.f32(2, "dy", n), x = a.f32(3, "x", n);
  const F32 y = a.f32(4, "y", a.ok() && vlmc::unary_backward_uses_y(op) ? n : 0);
  if (a.ok()) vlmc::unary_backward(op, dx.p, dy.p, x.p, y.p, n);
  return a.finish();
}

KERNEL(Binary) {
  Args a(env, info, "binary", 7);
  const int op = op_code(a, 0, vlmc::kBinaryOpCount);
  const I32 shape = a.i32(4, "shape", 0), sa = a.i32(5, "aStrides", 0), sb = a.i32(6, "bStrides", 0);
  double span_a = 0, span_b = 0;
  const double count = check_strided(a, shape, sa, "aStrides", span_a);
  check_strided(a, shape, sb, "bStrides", span_b);
  const F32 out = a.f32(1, "out", count), A = a.f32(2, "a", span_a), B = a.f32(3, "b", span_b);
  if (a.ok()) vlmc::binary(op, out.p, A.p, B.p, static_cast<int>(shape.n), shape.p, sa.p, sb.p);
  return a.finish();
}

KERNEL(Affine) {
  Args a(env, info, "affine", 5);
  const int64_t n = a.size(2, "n");
  const double s = a.number(3, "s"), t = a.number(4, "t");
  const F32 out = a.f32(0, "out", n), x = a.f32(1, "a", n);
  if (a.ok()) vlmc::affine(out.p, x.p, n, s, t);
  return a.finish();
}

KERNEL(Axpy) {
  Args a(env, info, "axpy", 4);
  const int64_t n = a.size(2, "n");
  const double s = a.number(3, "s");
  const F32 out = a.f32(0, "out", n), x = a.f32(1, "x", n);
  if (a.ok()) vlmc::axpy(out.p, x.p, n, s);
  return a.finish();
}

KERNEL(AccumulateStrided) {
  Args a(env, info, "accumulateStrided", 4);
  const I32 shape = a.i32(2, "shape", 0), so = a.i32(3, "outStrides", 0);
  double span = 0;
  const double count = check_strided(a, shape, so, "outStrides", span);
  const F32 out = a.f32(0, "out", span), x = a.f32(1, "x", count);
  if (a.ok()) vlmc::accumulate_strided(out.p, x.p, static_cast<int>(shape.n), shape.p, so.p);
  return a.finish();
}

KERNEL(CopyStrided) {
  Args a(env, info, "copyStrided", 4);
  const I32 shape = a.i32(2, "shape", 0), sx = a.i32(3, "xStrides", 0);
  double span = 0;
  const double count = check_strided(a, shape, sx, "xStrides", span);
  const F32 out = a.f32(0, "out", count), x = a.f32(1, "x", span);
  if (a.ok()) vlmc::copy_strided(out.p, x.p, static_cast<int>(shape.n), shape.p, sx.p);
  return a.finish();
}

KERNEL(SwigluForward) {
  Args a(env, info, "swigluForward", 4);
  const int64_t n = a.size(3, "n");
  const F32 out = a.f32(0, "out", n), gate = a.f32(1, "gate", n), up = a.f32(2, "up", n);
  if (a.ok()) vlmc::swiglu_forward(out.p, gate.p, up.p, n);
  return a.finish();
}

KERNEL(SwigluBackward) {
  Args a(env, info, "swigluBackward", 6);
  const int64_t n = a.size(5, "n");
  const F32 dgate = a.f32(0, "dgate", n), dup = a.f32(1, "dup", n), dout = a.f32(2, "dout", n);
  const F32 gate = a.f32(3, "gate", n), up = a.f32(4, "up", n);
  if (a.ok()) vlmc::swiglu_backward(dgate.p, dup.p, dout.p, gate.p, up.p, n);
  return a.finish();
}

// ---------------------------------------------------------------------------------- reductions
KERNEL(SumAxis) {
  Args a(env, info, "sumAxis", 6);
  const int64_t outer = a.size(2, "outer"), dim = a.size(3, "dim"), inner = a.size(4, "inner");
  const double scale = a.number(5, "scale");
  const F32 out = a.f32(0, "out", static_cast<double>(outer) * inner);
  const F32 x = a.f32(1, "x", static_cast<double>(outer) * dim * inner);
  if (a.ok()) vlmc::sum_axis(out.p, x.p, outer, dim, inner, scale);
  return a.finish();
}

KERNEL(MaxAxis) {
  Args a(env, info, "maxAxis", 6);
  const int64_t outer = a.size(3, "outer"), dim = a.size(4, "dim"), inner = a.size(5, "inner");
  const double n_out = static_cast<double>(outer) * inner;
  const F32 out = a.f32(0, "out", n_out);
  const I32 arg = a.i32(1, "arg", n_out);
  const F32 x = a.f32(2, "x", n_out * dim);
  if (a.ok()) vlmc::max_axis(out.p, arg.p, x.p, outer, dim, inner);
  return a.finish();
}

KERNEL(SoftmaxForward) {
  Args a(env, info, "softmaxForward", 5);
  const int64_t N = a.size(2, "N"), C = a.size(3, "C");
  const bool log = a.flag(4, "log");
  const double n = static_cast<double>(N) * C;
  const F32 y = a.f32(0, "y", n), x = a.f32(1, "x", n);
  if (a.ok()) vlmc::softmax_forward(y.p, x.p, N, C, log);
  return a.finish();
}

KERNEL(SoftmaxBackward) {
  Args a(env, info, "softmaxBackward", 6);
  const int64_t N = a.size(3, "N"), C = a.size(4, "C");
  const bool log = a.flag(5, "log");
  const double n = static_cast<double>(N) * C;
  const F32 dx = a.f32(0, "dx", n), dy = a.f32(1, "dy", n), y = a.f32(2, "y", n);
  if (a.ok()) vlmc::softmax_backward(dx.p, dy.p, y.p, N, C, log);
  return a.finish();
}

KERNEL(SumSquares) {
  Args a(env, info, "sumSquares", 2);
  const int64_t n = a.size(1, "n");
  const F32 x = a.f32(0, "x", n);
  if (!a.ok()) return a.finish();
  napi_value r;
  napi_create_double(env, vlmc::sum_squares(x.p, n), &r);
  return r;
}

// ---------------------------------------------------------------------------------- norms
KERNEL(RmsNormForward) {
  Args a(env, info, "rmsNormForward", 7);
  const int64_t N = a.size(4, "N"), C = a.size(5, "C");
  const double eps = a.number(6, "eps"), n = static_cast<double>(N) * C;
  const F32 y = a.f32(0, "y", n), rstd = a.f32(1, "rstd", N), x = a.f32(2, "x", n), w = a.f32(3, "w", C);
  if (a.ok()) vlmc::rms_norm_forward(y.p, rstd.p, x.p, w.p, N, C, static_cast<float>(eps));
  return a.finish();
}

KERNEL(RmsNormBackward) {
  Args a(env, info, "rmsNormBackward", 8);
  const int64_t N = a.size(6, "N"), C = a.size(7, "C");
  const double n = static_cast<double>(N) * C;
  const F32 dx = a.f32(0, "dx", n), dw = a.f32(1, "dw", C), dy = a.f32(2, "dy", n), x = a.f32(3, "x", n);
  const F32 w = a.f32(4, "w", C), rstd = a.f32(5, "rstd", N);
  if (a.ok()) vlmc::rms_norm_backward(dx.p, dw.p, dy.p, x.p, w.p, rstd.p, N, C);
  return a.finish();
}

KERNEL(LayerNormForward) {
  Args a(env, info, "layerNormForward", 9);
  const int64_t N = a.size(6, "N"), C = a.size(7, "C");
  const double eps = a.number(8, "eps"), n = static_cast<double>(N) * C;
  const F32 y = a.f32(0, "y", n), mean = a.f32(1, "mean", N), rstd = a.f32(2, "rstd", N);
  const F32 x = a.f32(3, "x", n), w = a.f32(4, "w", C), b = a.f32(5, "b", C);
  if (a.ok()) vlmc::layer_norm_forward(y.p, mean.p, rstd.p, x.p, w.p, b.p, N, C, static_cast<float>(eps));
  return a.finish();
}

KERNEL(LayerNormBackward) {
  Args a(env, info, "layerNormBackward", 10);
  const int64_t N = a.size(8, "N"), C = a.size(9, "C");
  const double n = static_cast<double>(N) * C;
  const F32 dx = a.f32(0, "dx", n), dw = a.f32(1, "dw", C), db = a.f32(2, "db", C), dy = a.f32(3, "dy", n);
  const F32 x = a.f32(4, "x", n), w = a.f32(5, "w", C), mean = a.f32(6, "mean", N), rstd = a.f32(7, "rstd", N);
  if (a.ok()) vlmc::layer_norm_backward(dx.p, dw.p, db.p, dy.p, x.p, w.p, mean.p, rstd.p, N, C);
  return a.finish();
}

// ---------------------------------------------------------------------------------- RoPE
KERNEL(Rope) {
  Args a(env, info, "rope", 8);
  const int64_t BT = a.size(3, "BT"), NH = a.size(4, "NH"), HS = a.size(5, "HS");
  const double theta = a.number(6, "theta");
  const bool inverse = a.flag(7, "inverse");
  const double n = static_cast<double>(BT) * NH * HS;
  const F32 out = a.f32(0, "out", n), x = a.f32(1, "x", n);
  const I32 pos = a.i32(2, "pos", BT);
  if (a.ok()) vlmc::rope(out.p, x.p, pos.p, BT, NH, HS, theta, inverse);
  return a.finish();
}

// ---------------------------------------------------------------------------------- attention
// Reads B, Tq, Tk, NH, NKV, HS, scale, biasPerQuery from argument `first` on.
vlmc::AttentionShape attention_shape(Args& a, size_t first) {
  vlmc::AttentionShape s{};
  s.B = a.size(first, "B");
  s.Tq = a.size(first + 1, "Tq");
  s.Tk = a.size(first + 2, "Tk");
  s.NH = a.size(first + 3, "NH");
  s.NKV = a.size(first + 4, "NKV");
  s.HS = a.size(first + 5, "HS");
  s.scale = static_cast<float>(a.number(first + 6, "scale"));
  s.biasPerQuery = a.flag(first + 7, "biasPerQuery");
  if (a.ok() && (s.NKV == 0 || s.NH % s.NKV != 0)) {
    a.fail("NH (" + std::to_string(s.NH) + ") must be a multiple of NKV (" + std::to_string(s.NKV) + ")");
  }
  return s;
}

struct AttentionSizes {
  double q, kv, lse, probs, bias, rows;
};
AttentionSizes attention_sizes(const vlmc::AttentionShape& s) {
  const double B = static_cast<double>(s.B), Tq = static_cast<double>(s.Tq), Tk = static_cast<double>(s.Tk);
  return {B * Tq * s.NH * s.HS, B * Tk * s.NKV * s.HS, B * s.NH * Tq, B * s.NH * Tq * Tk,
          s.biasPerQuery ? B * Tq * Tk : B * Tk, B * Tq};
}

KERNEL(AttentionForward) {
  Args a(env, info, "attentionForward", 17);
  const vlmc::AttentionShape s = attention_shape(a, 9);
  const AttentionSizes n = attention_sizes(s);
  const F32 out = a.f32(0, "out", n.q), lse = a.f32(1, "lse", n.lse), probs = a.f32_or_null(2, "probs", n.probs);
  const F32 q = a.f32(3, "q", n.q), k = a.f32(4, "k", n.kv), v = a.f32(5, "v", n.kv);
  const F32 bias = a.f32_or_null(6, "bias", n.bias);
  const I32 lo = a.i32(7, "keyLo", n.rows), hi = a.i32(8, "keyHi", n.rows);
  if (a.ok()) vlmc::attention_forward(out.p, lse.p, probs.p, q.p, k.p, v.p, bias.p, lo.p, hi.p, s);
  return a.finish();
}

KERNEL(AttentionBackward) {
  Args a(env, info, "attentionBackward", 21);
  const vlmc::AttentionShape s = attention_shape(a, 13);
  const AttentionSizes n = attention_sizes(s);
  const F32 dq = a.f32(0, "dq", n.q), dk = a.f32(1, "dk", n.kv), dv = a.f32(2, "dv", n.kv);
  const F32 dbias = a.f32_or_null(3, "dbias", n.bias);
  const F32 dout = a.f32(4, "dout", n.q), out = a.f32(5, "out", n.q), lse = a.f32(6, "lse", n.lse);
  const F32 q = a.f32(7, "q", n.q), k = a.f32(8, "k", n.kv), v = a.f32(9, "v", n.kv);
  const F32 bias = a.f32_or_null(10, "bias", n.bias);
  const I32 lo = a.i32(11, "keyLo", n.rows), hi = a.i32(12, "keyHi", n.rows);
  if (a.ok()) {
    vlmc::attention_backward(dq.p, dk.p, dv.p, dbias.p, dout.p, out.p, lse.p, q.p, k.p, v.p, bias.p, lo.p, hi.p, s);
  }
  return a.finish();
}

// ---------------------------------------------------------------------------------- gather / scatter
KERNEL(GatherRows) {
  Args a(env, info, "gatherRows", 5);
  const int64_t nIdx = a.size(3, "nIdx"), C = a.size(4, "C");
  const F32 out = a.f32(0, "out", static_cast<double>(nIdx) * C), x = a.f32(1, "x", 0);
  const I32 idx = a.i32(2, "idx", nIdx);
  if (C > 0) check_indices(a, idx, nIdx, static_cast<double>(x.n / C), "idx");
  if (a.ok()) vlmc::gather_rows(out.p, x.p, idx.p, nIdx, C);
  return a.finish();
}

KERNEL(ScatterAddRows) {
  Args a(env, info, "scatterAddRows", 5);
  const int64_t nIdx = a.size(3, "nIdx"), C = a.size(4, "C");
  const F32 out = a.f32(0, "out", 0), x = a.f32(1, "x", static_cast<double>(nIdx) * C);
  const I32 idx = a.i32(2, "idx", nIdx);
  if (C > 0) check_indices(a, idx, nIdx, static_cast<double>(out.n / C), "idx");
  if (a.ok()) vlmc::scatter_add_rows(out.p, x.p, idx.p, nIdx, C);
  return a.finish();
}

// ---------------------------------------------------------------------------------- losses
KERNEL(CrossEntropyForward) {
  Args a(env, info, "crossEntropyForward", 7);
  const int64_t N = a.size(4, "N"), V = a.size(5, "V");
  const int32_t ignore = a.int32(6, "ignoreIndex");
  const F32 loss = a.f32(0, "loss", N), lse = a.f32(1, "lse", N);
  const F32 logits = a.f32(2, "logits", static_cast<double>(N) * V);
  const I32 targets = a.i32(3, "targets", N);
  check_indices(a, targets, N, static_cast<double>(V), "targets", true, ignore);
  if (a.ok()) vlmc::cross_entropy_forward(loss.p, lse.p, logits.p, targets.p, N, V, ignore);
  return a.finish();
}

KERNEL(CrossEntropyBackward) {
  Args a(env, info, "crossEntropyBackward", 8);
  const int64_t N = a.size(5, "N"), V = a.size(6, "V");
  const int32_t ignore = a.int32(7, "ignoreIndex");
  const double n = static_cast<double>(N) * V;
  const F32 dlogits = a.f32(0, "dlogits", n), dloss = a.f32(1, "dloss", N), logits = a.f32(2, "logits", n);
  const F32 lse = a.f32(3, "lse", N);
  const I32 targets = a.i32(4, "targets", N);
  check_indices(a, targets, N, static_cast<double>(V), "targets", true, ignore);
  if (a.ok()) vlmc::cross_entropy_backward(dlogits.p, dloss.p, logits.p, lse.p, targets.p, N, V, ignore);
  return a.finish();
}

// ---------------------------------------------------------------------------------- optimizer
KERNEL(AdamwStep) {
  Args a(env, info, "adamwStep", 12);
  const int64_t n = a.size(4, "n");
  const double lr = a.number(5, "lr"), b1 = a.number(6, "b1"), b2 = a.number(7, "b2"), eps = a.number(8, "eps");
  const double wd = a.number(9, "wd"), bc1 = a.number(10, "bc1"), bc2 = a.number(11, "bc2");
  const F32 p = a.f32(0, "p", n), g = a.f32(1, "g", n), m = a.f32(2, "m", n), v = a.f32(3, "v", n);
  if (a.ok()) vlmc::adamw_step(p.p, g.p, m.p, v.p, n, lr, b1, b2, eps, wd, bc1, bc2);
  return a.finish();
}

// ---------------------------------------------------------------------------------- control
napi_value info_object(napi_env env) {
  napi_value obj, simd, threads;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, vlmc::simd_name(vlmc::simd_level()), NAPI_AUTO_LENGTH, &simd);
  napi_create_int32(env, vlmc::num_threads(), &threads);
  napi_set_named_property(env, obj, "simd", simd);
  napi_set_named_property(env, obj, "threads", threads);
  return obj;
}

KERNEL(Info) {
  Args a(env, info, "info", 0);
  if (!a.ok()) return a.finish();
  return info_object(env);
}

// setThreads(n): n threads in total (1 = no pool). Returns info().
KERNEL(SetThreads) {
  Args a(env, info, "setThreads", 1);
  const int64_t n = a.size(0, "n");
  if (a.ok() && (n < 1 || n > 256)) a.fail("n must be in [1, 256], got " + std::to_string(n));
  if (!a.ok()) return a.finish();
  vlmc::set_num_threads(static_cast<int>(n));
  return info_object(env);
}

// setSimd("avx512" | "avx2" | "scalar"): lowers (never raises above the CPU's) the instruction set.
// Returns info(), whose simd field says which level is now in force.
KERNEL(SetSimd) {
  Args a(env, info, "setSimd", 1);
  char buf[16] = {};
  size_t len = 0;
  napi_value arg;
  size_t argc = 1;
  napi_get_cb_info(env, info, &argc, &arg, nullptr, nullptr);
  if (a.ok() && napi_get_value_string_utf8(env, arg, buf, sizeof buf, &len) != napi_ok) {
    a.fail("argument 0 (level) must be a string");
  }
  const std::string level(buf, len);
  vlmc::Simd want = vlmc::Simd::scalar;
  if (level == "avx512") {
    want = vlmc::Simd::avx512;
  } else if (level == "avx2") {
    want = vlmc::Simd::avx2;
  } else if (level != "scalar" && a.ok()) {
    a.fail("level must be \"avx512\", \"avx2\" or \"scalar\", got \"" + level + "\"");
  }
  if (!a.ok()) return a.finish();
  vlmc::set_simd_level(want);
  return info_object(env);
}

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor props[] = {
#define EXPORT(name, fn) {name, nullptr, fn, nullptr, nullptr, nullptr, napi_enumerable, nullptr}
      EXPORT("matmul", Matmul),
      EXPORT("unary", Unary),
      EXPORT("unaryBackward", UnaryBackward),
      EXPORT("binary", Binary),
      EXPORT("affine", Affine),
      EXPORT("axpy", Axpy),
      EXPORT("accumulateStrided", AccumulateStrided),
      EXPORT("copyStrided", CopyStrided),
      EXPORT("sumAxis", SumAxis),
      EXPORT("maxAxis", MaxAxis),
      EXPORT("softmaxForward", SoftmaxForward),
      EXPORT("softmaxBackward", SoftmaxBackward),
      EXPORT("rmsNormForward", RmsNormForward),
      EXPORT("rmsNormBackward", RmsNormBackward),
      EXPORT("layerNormForward", LayerNormForward),
      EXPORT("layerNormBackward", LayerNormBackward),
      EXPORT("rope", Rope),
      EXPORT("attentionForward", AttentionForward),
      EXPORT("attentionBackward", AttentionBackward),
      EXPORT("gatherRows", GatherRows),
      EXPORT("scatterAddRows", ScatterAddRows),
      EXPORT("crossEntropyForward", CrossEntropyForward),
      EXPORT("crossEntropyBackward", CrossEntropyBackward),
      EXPORT("swigluForward", SwigluForward),
      EXPORT("swigluBackward", SwigluBackward),
      EXPORT("adamwStep", AdamwStep),
      EXPORT("sumSquares", SumSquares),
      EXPORT("info", Info),
      EXPORT("setThreads", SetThreads),
      EXPORT("setSimd", SetSimd),
#undef EXPORT
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
