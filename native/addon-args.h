// Argument reading for the N-API glue (addon.cc): typed arrays with length checks, sizes, numbers,
// booleans, and index-range checks. The first failure is recorded and later reads return empty
// values, so a wrapper reads everything, checks ok() once, and throws one message naming the kernel.
#pragma once

#include <node_api.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "kernels/kernels.h"

namespace vlmc_addon {

template <class T>
struct Buf {
  T* p = nullptr;
  size_t n = 0;
};
using F32 = Buf<float>;
using I32 = Buf<int32_t>;

// Reads the arguments of one call. The first failure is recorded; later reads return empty values
// so a wrapper can read everything and check ok() once before calling the kernel.
class Args {
 public:
  Args(napi_env env, napi_callback_info info, const char* kernel, size_t want) : env_(env), kernel_(kernel) {
    size_t argc = kMaxArgs;
    if (napi_get_cb_info(env, info, &argc, argv_, nullptr, nullptr) != napi_ok) {
      fail("could not read the arguments");
    } else if (argc != want) {
      fail("expected " + std::to_string(want) + " arguments, got " + std::to_string(argc));
    }
  }

  bool ok() const { return err_.empty(); }
  napi_env env() const { return env_; }

  void fail(const std::string& msg) {
    if (err_.empty()) err_ = msg;
  }

  /** Throws the recorded error (if any) and returns undefined, ready to be returned to JS. */
  napi_value finish() {
    if (!err_.empty()) {
      const std::string msg = std::string("native ") + kernel_ + ": " + err_;
      napi_throw_error(env_, nullptr, msg.c_str());
    }
    return nullptr;
  }

  F32 f32(size_t i, const char* name, double need) { return typed<float>(i, name, need, napi_float32_array, false); }
  F32 f32_or_null(size_t i, const char* name, double need) {
    return typed<float>(i, name, need, napi_float32_array, true);
  }
  I32 i32(size_t i, const char* name, double need) { return typed<int32_t>(i, name, need, napi_int32_array, false); }

  /** A non-negative integer (a size, count or stride). */
  int64_t size(size_t i, const char* name) {
    const double d = number(i, name);
    if (!ok()) return 0;
    if (!(d >= 0) || d != std::floor(d) || d > 9007199254740991.0) {
      fail(arg_name(i, name) + " must be a non-negative integer, got " + fmt(d));
      return 0;
    }
    return static_cast<int64_t>(d);
  }

  /** Any int32 (ignoreIndex may be negative). */
  int32_t int32(size_t i, const char* name) {
    const double d = number(i, name);
    if (!ok()) return 0;
    if (d != std::floor(d) || d < -2147483648.0 || d > 2147483647.0) {
      fail(arg_name(i, name) + " must be a 32-bit integer, got " + fmt(d));
      return 0;
    }
    return static_cast<int32_t>(d);
  }

  double number(size_t i, const char* name) {
    double d = 0;
    if (ok() && napi_get_value_double(env_, argv_[i], &d) != napi_ok) fail(arg_name(i, name) + " must be a number");
    return d;
  }

  bool flag(size_t i, const char* name) {
    bool b = false;
    if (ok() && napi_get_value_bool(env_, argv_[i], &b) != napi_ok) fail(arg_name(i, name) + " must be a boolean");
    return b;
  }

  std::string arg_name(size_t i, const char* name) const {
    return "argument " + std::to_string(i) + " (" + name + ")";
  }

 private:
  static constexpr size_t kMaxArgs = 24;

  static std::string fmt(double d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    return buf;
  }

  template <class T>
  Buf<T> typed(size_t i, const char* name, double need, napi_typedarray_type want, bool nullable) {
    Buf<T> out;
    if (!ok()) return out;
    napi_valuetype vt;
    napi_typeof(env_, argv_[i], &vt);
    if (nullable && (vt == napi_null || vt == napi_undefined)) return out;
    bool is_typed = false;
    napi_is_typedarray(env_, argv_[i], &is_typed);
    const char* what = want == napi_float32_array ? "a Float32Array" : "an Int32Array";
    if (!is_typed) {
      fail(arg_name(i, name) + " must be " + what + (nullable ? " or null" : ""));
      return out;
    }
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    napi_value ab;
    size_t offset = 0;
    if (napi_get_typedarray_info(env_, argv_[i], &type, &length, &data, &ab, &offset) != napi_ok || type != want) {
      fail(arg_name(i, name) + " must be " + what);
      return out;
    }
    if (static_cast<double>(length) < need) {
      fail(arg_name(i, name) + " has " + std::to_string(length) + " elements, the sizes given need " + fmt(need));
      return out;
    }
    static T dummy[1];  // never dereferenced: stands in for the data of an empty array
    out.p = data != nullptr ? static_cast<T*>(data) : dummy;
    out.n = length;
    return out;
  }

  napi_env env_;
  const char* kernel_;
  napi_value argv_[kMaxArgs] = {};
  std::string err_;
};

// Checks a shape and its strides for the strided kernels; returns the element count, and in
// `span` the number of elements the strided operand must hold (largest offset + 1).
inline double check_strided(Args& a, const I32& shape, const I32& strides, const char* strides_name, double& span) {
  span = 0;
  if (!a.ok()) return 0;
  if (shape.n < 1 || shape.n > static_cast<size_t>(vlmc::kMaxDims)) {
    a.fail("shape must have 1 to " + std::to_string(vlmc::kMaxDims) + " axes, got " + std::to_string(shape.n));
    return 0;
  }
  if (strides.n < shape.n) {
    a.fail(std::string(strides_name) + " has fewer entries than shape");
    return 0;
  }
  double count = 1, last = 0;
  for (size_t d = 0; d < shape.n; d++) {
    if (shape.p[d] < 0) a.fail("shape has a negative axis");
    if (strides.p[d] < 0) a.fail(std::string(strides_name) + " has a negative stride");
    count *= shape.p[d];
    last += static_cast<double>(shape.p[d] > 0 ? shape.p[d] - 1 : 0) * strides.p[d];
  }
  span = count > 0 ? last + 1 : 0;
  return count;
}

// Every index of idx[0, n) must lie in [0, limit) (or equal `allowed`, when given).
inline void check_indices(Args& a, const I32& idx, int64_t n, double limit, const char* what, bool has_allowed = false,
                   int32_t allowed = 0) {
  if (!a.ok()) return;
  for (int64_t i = 0; i < n; i++) {
    const int32_t v = idx.p[i];
    if (has_allowed && v == allowed) continue;
    if (v < 0 || v >= limit) {
      a.fail(std::string(what) + "[" + std::to_string(i) + "] = " + std::to_string(v) + " is out of range [0, " +
             std::to_string(static_cast<int64_t>(limit)) + ")");
      return;
    }
  }
}

}  // namespace vlmc_addon
