// docs/config.md's key tables are the config's field tables: each marked block must be what they generate.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "matthan/app/config.hpp"

namespace matthan {
namespace {

std::string read_docs() {
  std::ifstream in(std::string(MATTHAN_DOCS_DIR) + "/config.md", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The text between `<!-- config-keys NAME ...-->` and `<!-- /config-keys -->`, without the blank lines around it;
// empty when the docs have no such block.
std::string docs_block(const std::string& docs, const std::string& name) {
  const std::string open = "<!-- config-keys " + name + " ";
  const auto at = docs.find(open);
  if (at == std::string::npos) return {};
  const auto begin = docs.find('\n', at);
  const auto end = docs.find("<!-- /config-keys -->", begin);
  if (begin == std::string::npos || end == std::string::npos) return {};
  std::string block = docs.substr(begin + 1, end - begin - 1);
  while (!block.empty() && block.front() == '\n') block.erase(block.begin());
  while (block.size() > 1 && block[block.size() - 2] == '\n') block.pop_back();
  return block;
}

TEST(ConfigKeys, DocsTablesAreTheFieldTables) {
  const std::string docs = read_docs();
  ASSERT_FALSE(docs.empty()) << "docs/config.md not found under " << MATTHAN_DOCS_DIR;
  const auto tables = config_key_tables();
  ASSERT_FALSE(tables.empty());
  for (const auto& [name, table] : tables)
    EXPECT_EQ(docs_block(docs, name), table)
        << "docs/config.md's `" << name
        << "` key table differs from the field tables (tools/app/src/config_tables.cpp):"
        << " paste the block `matthan config-keys` prints";
}

TEST(ConfigKeys, EveryKeyOfATableIsDocumentedOnce) {
  for (const auto& [name, table] : config_key_tables()) {
    std::istringstream rows(table);
    std::string row;
    std::set<std::string> keys;
    while (std::getline(rows, row)) {
      if (row.rfind("| `", 0) != 0) continue;
      const std::string key = row.substr(3, row.find('`', 3) - 3);
      EXPECT_TRUE(keys.insert(key).second) << name << ": `" << key << "` twice";
    }
    EXPECT_GT(keys.size(), 5u) << name;
  }
}

}  // namespace
}  // namespace matthan
