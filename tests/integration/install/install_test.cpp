// The install layout a systemd service needs, checked on the real artefacts: the .deb from CPack (unpacked
// with dpkg-deb -x, never installed) and `cmake --install` into a DESTDIR; the unpacked binary then runs
// against a simulated camera.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"
#include "matthan/test/sim_fixture.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;

// The value of `Key=` in a unit file (first occurrence), or empty.
std::string unit_value(const std::string& unit, const std::string& key) {
  std::istringstream in(unit);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  return {};
}

bool executable(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR) != 0;
}

// Checks that the unit and the paths it names exist under `root` (the unpacked package or a DESTDIR).
void check_layout(const fs::path& root, const std::string& prefix) {
  const fs::path unit_path = root / (prefix.substr(1) + "/lib/systemd/system/matthan.service");
  ASSERT_TRUE(fs::exists(unit_path)) << unit_path;
  const std::string unit = read_file(unit_path);
  const std::string exec = unit_value(unit, "ExecStart");
  EXPECT_EQ(exec, prefix + "/bin/matthan run --config /etc/matthan/matthan.yaml") << unit;
  const fs::path binary = root / (prefix.substr(1) + "/bin/matthan");
  EXPECT_TRUE(executable(binary)) << binary;
  EXPECT_TRUE(fs::is_regular_file(root / "etc/matthan/matthan.yaml"));
  EXPECT_EQ(unit_value(unit, "ReadWritePaths"), "/var/lib/matthan");
  EXPECT_EQ(unit_value(unit, "WorkingDirectory"), "/var/lib/matthan");
  EXPECT_TRUE(fs::is_directory(root / "var/lib/matthan"));
  EXPECT_EQ(unit_value(unit, "User"), "matthan");
  EXPECT_EQ(unit_value(unit, "Restart"), "on-failure");
  EXPECT_EQ(unit_value(unit, "ProtectSystem"), "strict");
  EXPECT_EQ(unit_value(unit, "ProtectHome"), "true");
  EXPECT_EQ(unit_value(unit, "NoNewPrivileges"), "true");
  EXPECT_EQ(unit_value(unit, "PrivateTmp"), "true");
  EXPECT_EQ(unit_value(unit, "WantedBy"), "multi-user.target");
  EXPECT_EQ(unit_value(unit, "ExecReload"), "/bin/kill -HUP $MAINPID");
  EXPECT_TRUE(fs::is_regular_file(root / (prefix.substr(1) + "/share/doc/matthan/install.md")));
}

class DebPackage : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"cpack", "dpkg-deb", "dpkg-shlibdeps"})
      if (run_command({"sh", "-c", std::string("command -v ") + tool}).first != 0)
        GTEST_SKIP() << tool << " is not installed";
    dir_ = make_temp_dir("matthan-deb");
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }

  // Packs this build tree as it is (ctest runs after the build); the output goes to a private folder so
  // parallel runs never share files.
  fs::path build_deb() {
    auto [rc, out] =
        run_command({"cpack", "-G", "DEB", "--config", std::string(MATTHAN_BUILD_DIR) + "/CPackConfig.cmake", "-B",
                     (dir_ / "out").string()});
    EXPECT_EQ(rc, 0) << out;
    for (const auto& e : fs::directory_iterator(dir_ / "out"))
      if (e.path().extension() == ".deb") return e.path();
    ADD_FAILURE() << "cpack made no .deb:\n" << out;
    return {};
  }

  fs::path dir_;
};

TEST_F(DebPackage, LayoutDependsScriptsAndTheUnpackedBinaryRuns) {
  const fs::path deb = build_deb();
  ASSERT_FALSE(deb.empty());
  EXPECT_EQ(deb.filename().string(), std::string("matthan_") + MATTHAN_PROJECT_VERSION + "_amd64.deb");

  // Depends: the shared libraries (found by dpkg-shlibdeps) and the GStreamer plugin packages (by hand).
  auto [rc, depends] = run_command({"dpkg-deb", "-f", deb.string(), "Depends"});
  ASSERT_EQ(rc, 0) << depends;
  // (libspdlog1.10-fmt9 is the ABI name libspdlog1.10 provides; OpenCV's dnn and objdetect appear once a
  // module links them. OpenCV's video module is not among them: the KNN background model is the project's own,
  // and only a unit test compares it with OpenCV's.)
  for (const char* pkg : {"adduser",
                          "libgstreamer1.0-0",
                          "libgstreamer-plugins-base1.0-0",
                          "gstreamer1.0-plugins-base",
                          "gstreamer1.0-plugins-good",
                          "gstreamer1.0-plugins-bad",
                          "gstreamer1.0-plugins-ugly",
                          "gstreamer1.0-libav",
                          "libgstrtspserver-1.0-0",
                          "libglib2.0-0",
                          "libopencv-core406",
                          "libopencv-imgproc406",
                          "libopencv-imgcodecs406",
                          "libavformat59",
                          "libavcodec59",
                          "libavutil57",
                          "libzmq5",
                          "libsqlite3-0",
                          "libyaml-cpp0.7",
                          "libspdlog1.10-fmt9",
                          "libfmt9"}) {
    EXPECT_TRUE(std::regex_search(depends, std::regex(std::string("(^|, )") + pkg + "( |,|$)")))
        << pkg << " missing from Depends: " << depends;
  }

  // Maintainer scripts and the conffile.
  const fs::path control = dir_ / "control";
  ASSERT_EQ(run_command({"dpkg-deb", "-e", deb.string(), control.string()}).first, 0);
  EXPECT_EQ(read_file(control / "conffiles"), "/etc/matthan/matthan.yaml\n");
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    EXPECT_TRUE(executable(control / script)) << script;
    EXPECT_EQ(run_command({"sh", "-n", (control / script).string()}).first, 0) << script;
  }
  const std::string postinst = read_file(control / "postinst");
  EXPECT_NE(postinst.find("adduser --system"), std::string::npos);
  EXPECT_NE(postinst.find("install -d -o matthan -g matthan -m 0750 /var/lib/matthan"), std::string::npos);

  // The files are where the unit expects them.
  const fs::path root = dir_ / "root";
  auto [xrc, xout] = run_command({"dpkg-deb", "-x", deb.string(), root.string()});
  ASSERT_EQ(xrc, 0) << xout;
  check_layout(root, "/usr");
  if (HasFatalFailure()) return;
  const std::string binary = (root / "usr/bin/matthan").string();

  // systemd parses the unit without complaint (unknown or misspelt keys, bad values). The copy points
  // ExecStart at the unpacked binary, since the real path exists only once installed.
  if (run_command({"sh", "-c", "command -v systemd-analyze"}).first == 0) {
    std::string unit = read_file(root / "usr/lib/systemd/system/matthan.service");
    unit.replace(unit.find("ExecStart=/usr/bin/matthan"), std::string("ExecStart=/usr/bin/matthan").size(),
                 "ExecStart=" + binary);
    const fs::path copy = dir_ / "matthan.service";
    std::ofstream(copy) << unit;
    auto [arc, analysis] = run_command({"systemd-analyze", "verify", copy.string()});
    for (const char* complaint : {"Unknown", "Failed to parse", "Invalid", "ignoring", "not executable"})
      EXPECT_EQ(analysis.find(complaint), std::string::npos) << analysis;
  }

  auto [vrc, version] = run_command({binary, "--version"});
  EXPECT_EQ(vrc, 0);
  EXPECT_NE(version.find(std::string("matthan ") + MATTHAN_PROJECT_VERSION), std::string::npos) << version;

  // The default config is valid as shipped.
  auto [crc, check] = run_command({binary, "check", "--config", (root / "etc/matthan/matthan.yaml").string()});
  EXPECT_EQ(crc, 0) << check;
  EXPECT_NE(check.find("storage at /var/lib/matthan"), std::string::npos) << check;

  // A short run of the unpacked binary against a simulated camera, storage in a temp folder.
  if (vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed: run part skipped";
  const fs::path cut = cut_vtest(dir_, 15);
  ASSERT_FALSE(cut.empty());
  SimCamera sim("vtest", cut, dir_);
  ASSERT_TRUE(sim.ok()) << sim.log();
  const fs::path storage = dir_ / "storage";
  const fs::path cfg = dir_ / "run.yaml";
  std::ofstream(cfg) << "storage: {root: \"" << storage.string() << "\"}\n"
                     << "events: {bind: \"tcp://127.0.0.1:" << free_tcp_port() << "\"}\n"
                     << "cameras:\n  - id: vtest\n    url: " << sim.url() << "\n";
  const fs::path log = dir_ / "run.log";
  Process run({binary, "run", "--config", cfg.string(), "--for", "8"}, log.string());
  const auto status = run.wait(std::chrono::seconds(90));
  const std::string text = read_file(log);
  ASSERT_EQ(status, 0) << text;
  EXPECT_NE(text.find("[vtest] camera state: streaming"), std::string::npos) << text;
  EXPECT_NE(text.find("stopped cleanly"), std::string::npos) << text;
  EXPECT_TRUE(fs::is_regular_file(storage / "index.db")) << text;
}

TEST(CmakeInstall, DestdirLayoutFollowsThePrefix) {
  const fs::path dest = make_temp_dir("matthan-install");
  const std::string destdir = "DESTDIR=" + dest.string();
  auto [rc, out] =
      run_command({"env", destdir, "cmake", "--install", MATTHAN_BUILD_DIR, "--prefix", "/opt/matthan-test"});
  ASSERT_EQ(rc, 0) << out;
  check_layout(dest, "/opt/matthan-test");
  const std::string config = read_file(dest / "etc/matthan/matthan.yaml");
  EXPECT_NE(config.find("root: /var/lib/matthan"), std::string::npos);
  EXPECT_NE(config.find("url: rtsp://127.0.0.1:"), std::string::npos);

  // Installing again keeps an edited config and puts the new default next to it.
  std::ofstream(dest / "etc/matthan/matthan.yaml", std::ios::app) << "# edited by the administrator\n";
  auto [rc2, out2] =
      run_command({"env", destdir, "cmake", "--install", MATTHAN_BUILD_DIR, "--prefix", "/opt/matthan-test"});
  ASSERT_EQ(rc2, 0) << out2;
  EXPECT_NE(read_file(dest / "etc/matthan/matthan.yaml").find("# edited by the administrator"), std::string::npos);
  EXPECT_TRUE(fs::is_regular_file(dest / "etc/matthan/matthan.yaml.dist"));
  if (!::testing::Test::HasFailure()) fs::remove_all(dest);
}

}  // namespace
}  // namespace matthan::test
