// A tiny RAII wrapper over sqlite3 prepared statements with named binds and named column reads (private
// header).
#pragma once

#include <fmt/format.h>
#include <sqlite3.h>

#include <cassert>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "matthan/core/result.hpp"

namespace matthan::sqlite {

struct DatabaseDeleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DatabasePtr = std::unique_ptr<sqlite3, DatabaseDeleter>;

struct StatementDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

// Names the likely cause for the codes an operator can act on.
inline std::string describe(sqlite3* db, int rc) {
  std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      msg += " (the file is corrupt or is not a Matthan index)";
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      msg += " (another process or connection holds the database locked)";
      break;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      msg += " (check the path and its permissions)";
      break;
    default:
      break;
  }
  return msg;
}

class Statement {
 public:
  static Result<Statement> prepare(sqlite3* db, std::string_view sql) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
    Statement s(db, raw);
    if (rc != SQLITE_OK) return make_error(fmt::format("prepare: {}", describe(db, rc)));
    return s;
  }

  Statement& bind(const char* name, std::int64_t v) {
    return check_bind(sqlite3_bind_int64(stmt_.get(), index_of(name), v));
  }
  Statement& bind(const char* name, double v) {
    return check_bind(sqlite3_bind_double(stmt_.get(), index_of(name), v));
  }
  Statement& bind(const char* name, const std::string& v) {
    return check_bind(
        sqlite3_bind_text(stmt_.get(), index_of(name), v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Statement& bind_null(const char* name) { return check_bind(sqlite3_bind_null(stmt_.get(), index_of(name))); }
  template <class T>
  Statement& bind(const char* name, const std::optional<T>& v) {
    return v ? bind(name, *v) : bind_null(name);
  }

  // True when a row is ready to read, false when done.
  Result<bool> step() {
    if (!bind_error_.empty()) return make_error(bind_error_);
    const int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return make_error(describe(db_, rc));
  }
  // Runs a statement that returns no rows.
  Status run() {
    auto r = step();
    if (!r) return make_error(r.error().message);
    return {};
  }

  std::int64_t int64(const char* column) const { return sqlite3_column_int64(stmt_.get(), column_of(column)); }
  double real(const char* column) const { return sqlite3_column_double(stmt_.get(), column_of(column)); }
  bool is_null(const char* column) const { return sqlite3_column_type(stmt_.get(), column_of(column)) == SQLITE_NULL; }
  std::string text(const char* column) const {
    const int i = column_of(column);
    const auto* p = sqlite3_column_text(stmt_.get(), i);
    return p == nullptr ? std::string{}
                        : std::string(reinterpret_cast<const char*>(p),
                                      static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), i)));
  }
  std::optional<std::string> optional_text(const char* column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
  }
  std::optional<std::int64_t> optional_int64(const char* column) const {
    if (is_null(column)) return std::nullopt;
    return int64(column);
  }

 private:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {
    if (stmt == nullptr) return;
    const int n = sqlite3_column_count(stmt);
    for (int i = 0; i < n; ++i) columns_.emplace(sqlite3_column_name(stmt, i), i);
  }

  int index_of(const char* name) {
    const int i = sqlite3_bind_parameter_index(stmt_.get(), name);
    if (i == 0 && bind_error_.empty()) bind_error_ = fmt::format("no SQL parameter named {}", name);
    return i;
  }
  Statement& check_bind(int rc) {
    if (rc != SQLITE_OK && bind_error_.empty()) bind_error_ = fmt::format("bind: {}", describe(db_, rc));
    return *this;
  }
  int column_of(const char* name) const {
    const auto it = columns_.find(name);
    assert(it != columns_.end() && "query does not select this column");
    return it == columns_.end() ? -1 : it->second;
  }

  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, StatementDeleter> stmt_;
  std::unordered_map<std::string, int> columns_;
  std::string bind_error_;
};

}  // namespace matthan::sqlite
