// DnnDetector: a Darknet YOLO model (Yolo-Fastest) through cv::dnn on the CPU, batched over crops.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <exception>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <tuple>

#include "frame_crop.hpp"
#include "matthan/detect/object_detector.hpp"

namespace matthan {
namespace {

// Darknet's names with spaces as underscores ("traffic light" -> "traffic_light"); "motorbike" stays.
std::string our_label(std::string name) {
  while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
  for (char& c : name) c = c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

Result<std::vector<std::string>> read_names(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return make_error(fmt::format("cannot read the names file {}", path.string()));
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    std::string label = our_label(line);
    if (!label.empty()) names.push_back(std::move(label));
  }
  if (names.empty()) return make_error(fmt::format("the names file {} lists no class", path.string()));
  return names;
}

Status check_readable(const std::filesystem::path& p, const char* what) {
  std::error_code ec;
  if (p.empty()) return make_error(fmt::format("no {} file given", what));
  if (!std::filesystem::is_regular_file(p, ec))
    return make_error(fmt::format("{} file {} does not exist", what, p.string()));
  std::ifstream in(p, std::ios::binary);
  if (!in) return make_error(fmt::format("{} file {} cannot be read", what, p.string()));
  return {};
}

// ---- networks shared by the detectors of one model ----
//
// A cv::dnn::Net keeps every layer's buffers for the last input shape it ran: measured in the engine, about 30 MB
// per camera for yolo-fastest-1.1 at 320 with batched crops, on top of the weights. One net per camera would cost
// that for every camera, although only as many forward calls run at once as there are analysis workers. So every
// detector of one model (same cfg, weights and input) draws from one pool: a forward call takes an idle net, or
// loads one more from the model bytes read at start, and gives it back when done. A node holds at most one net
// per call running at once, whatever its number of cameras. A net carries no state from one call to the next (its
// input is set anew each time), so which one a camera gets does not change what it detects.

std::atomic<std::size_t> g_networks{0};  // nets alive in every pool, for dnn_networks_in_memory()

class NetPool {
 public:
  NetPool(std::vector<uchar> cfg, std::vector<uchar> weights, cv::dnn::Net first)
      : cfg_(std::move(cfg)), weights_(std::move(weights)) {
    give_back(std::make_unique<cv::dnn::Net>(std::move(first)));
    g_networks.fetch_add(1);
  }
  ~NetPool() { g_networks.fetch_sub(idle_.size()); }
  NetPool(const NetPool&) = delete;
  NetPool& operator=(const NetPool&) = delete;

  // From the bytes of the model files: a net ready for the CPU. Throws cv::Exception when cv::dnn refuses them.
  static cv::dnn::Net load(const std::vector<uchar>& cfg, const std::vector<uchar>& weights) {
    cv::dnn::Net net = cv::dnn::readNetFromDarknet(cfg, weights);
    if (!net.empty()) {
      net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
      net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    }
    return net;
  }

  // An idle net, or a new one when every net is in a call. Throws cv::Exception if a new one cannot be made.
  std::unique_ptr<cv::dnn::Net> take() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto net = std::move(idle_.back());
        idle_.pop_back();
        return net;
      }
    }
    auto net = std::make_unique<cv::dnn::Net>(load(cfg_, weights_));
    g_networks.fetch_add(1);
    spdlog::debug("object detector: one more network for a call running beside the others ({} in memory)",
                  g_networks.load());
    return net;
  }
  void give_back(std::unique_ptr<cv::dnn::Net> net) {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(net));
  }

 private:
  const std::vector<uchar> cfg_, weights_;
  std::mutex mu_;
  std::vector<std::unique_ptr<cv::dnn::Net>> idle_;  // guarded by mu_
};

// A net taken from a pool for one forward call; it goes back on every path out.
class NetLease {
 public:
  explicit NetLease(NetPool& pool) : pool_(pool), net_(pool.take()) {}
  ~NetLease() { pool_.give_back(std::move(net_)); }
  NetLease(const NetLease&) = delete;
  NetLease& operator=(const NetLease&) = delete;
  cv::dnn::Net& operator*() const { return *net_; }

 private:
  NetPool& pool_;
  std::unique_ptr<cv::dnn::Net> net_;
};

// The model's files as they are now: a file replaced on disk (a reload after an update) makes a new pool.
struct ModelKey {
  std::string cfg, weights;
  std::uintmax_t cfg_size = 0, weights_size = 0;
  std::filesystem::file_time_type cfg_time{}, weights_time{};
  int input = 0;
  auto tie() const { return std::tie(cfg, weights, cfg_size, weights_size, cfg_time, weights_time, input); }
  bool operator<(const ModelKey& o) const { return tie() < o.tie(); }
};

Result<ModelKey> model_key(const DnnModelConfig& config) {
  std::error_code ec;
  ModelKey k;
  k.input = config.input;
  for (auto [path, name, size, time] : {std::tuple{&config.cfg, &k.cfg, &k.cfg_size, &k.cfg_time},
                                        std::tuple{&config.weights, &k.weights, &k.weights_size, &k.weights_time}}) {
    *name = std::filesystem::weakly_canonical(*path, ec).string();
    if (ec) *name = path->string();
    *size = std::filesystem::file_size(*path, ec);
    if (!ec) *time = std::filesystem::last_write_time(*path, ec);
    if (ec) return make_error(fmt::format("model file {}: {}", path->string(), ec.message()));
  }
  return k;
}

Result<std::vector<uchar>> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<uchar> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return make_error(fmt::format("model file {} cannot be read", p.string()));
  return bytes;
}

// The pool of a model, shared while any detector of it lives; loads the first net (which checks the files).
Result<std::shared_ptr<NetPool>> shared_pool(const DnnModelConfig& config) {
  static std::mutex mu;
  static std::map<ModelKey, std::weak_ptr<NetPool>> pools;  // guarded by mu
  auto key = model_key(config);
  if (!key.ok()) return key.error();
  std::lock_guard lock(mu);
  std::erase_if(pools, [](const auto& kv) { return kv.second.expired(); });
  if (auto it = pools.find(key.value()); it != pools.end())
    if (auto pool = it->second.lock()) return pool;
  auto cfg = read_bytes(config.cfg);
  if (!cfg.ok()) return cfg.error();
  auto weights = read_bytes(config.weights);
  if (!weights.ok()) return weights.error();
  cv::dnn::Net first;
  try {
    first = NetPool::load(cfg.value(), weights.value());
  } catch (const cv::Exception& e) {
    return make_error(
        fmt::format("cv::dnn could not load {} with {}: {}", config.weights.string(), config.cfg.string(), e.what()));
  }
  if (first.empty())
    return make_error(fmt::format("cv::dnn could not load {} with {}", config.weights.string(), config.cfg.string()));
  auto pool = std::make_shared<NetPool>(std::move(cfg.value()), std::move(weights.value()), std::move(first));
  pools[key.value()] = pool;
  return pool;
}

class DnnDetector final : public ObjectDetector {
 public:
  DnnDetector(std::shared_ptr<NetPool> pool, std::vector<cv::String> out_names, std::vector<std::string> names,
              DnnModelConfig config)
      : pool_(std::move(pool)), names_(std::move(names)), config_(std::move(config)), out_names_(std::move(out_names)) {
    class_floor_.assign(names_.size(), -1.0);  // < 0: class not wanted
    const std::set<std::string> wanted(config_.labels.begin(), config_.labels.end());
    const double fallback = floor_for("default", 0.25);
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (!wanted.empty() && !wanted.count(names_[i])) continue;
      class_floor_[i] = floor_for(names_[i], fallback);
    }
    min_floor_ = 1.0;
    for (double f : class_floor_)
      if (f >= 0) min_floor_ = std::min(min_floor_, f);
  }

  std::string describe() const override {
    return fmt::format("dnn {} @{}", config_.weights.filename().string(), config_.input);
  }
  int input_size() const override { return config_.input; }

  std::vector<std::vector<Detection>> detect(std::span<const CropRequest> crops) override {
    std::vector<std::vector<Detection>> results(crops.size());
    const std::size_t batch = static_cast<std::size_t>(std::max(1, config_.max_batch));
    for (std::size_t begin = 0; begin < crops.size(); begin += batch) {
      const std::size_t end = std::min(crops.size(), begin + batch);
      try {
        run_batch(crops.subspan(begin, end - begin), std::span(results).subspan(begin, end - begin));
      } catch (const std::exception& e) {
        if (!error_logged_) spdlog::error("object detector failed, crops give no objects: {}", e.what());
        error_logged_ = true;
      }
    }
    return results;
  }

 private:
  double floor_for(const std::string& label, double fallback) const {
    auto it = config_.min_score.find(label);
    return it != config_.min_score.end() ? it->second : fallback;
  }

  void run_batch(std::span<const CropRequest> crops, std::span<std::vector<Detection>> results) {
    std::vector<cv::Mat> images;
    std::vector<std::size_t> slots;  // which request each image came from
    std::vector<Box> regions;        // the pixel-aligned region actually cut, normalised
    for (std::size_t i = 0; i < crops.size(); ++i) {
      if (!crops[i].frame) continue;
      const Frame& f = *crops[i].frame;
      const cv::Rect r = detail::pixel_region(f, crops[i].region);
      cv::Mat bgr = detail::crop_bgr(f, r);
      if (bgr.empty()) continue;
      images.push_back(std::move(bgr));
      slots.push_back(i);
      regions.push_back(Box{static_cast<double>(r.x) / f.width, static_cast<double>(r.y) / f.height,
                            static_cast<double>(r.width) / f.width, static_cast<double>(r.height) / f.height});
    }
    if (images.empty()) return;
    // A plain stretch to the square input, RGB order, 0..1: what the model was trained with.
    const cv::Mat blob =
        cv::dnn::blobFromImages(images, 1.0 / 255.0, cv::Size(config_.input, config_.input), cv::Scalar(), true, false);
    std::vector<cv::Mat> outs;
    {
      NetLease net(*pool_);
      (*net).setInput(blob);
      (*net).forward(outs, out_names_);
    }
    ++forward_calls_;
    crops_seen_ += images.size();
    for (std::size_t k = 0; k < images.size(); ++k)
      results[slots[k]] = decode(outs, k, images.size(), regions[k], images[k].size());
  }

  // Rows of image k in every output (the Region layer stacks the batch image after image), class-aware NMS.
  std::vector<Detection> decode(const std::vector<cv::Mat>& outs, std::size_t k, std::size_t n, const Box& region,
                                cv::Size crop_size) const {
    std::vector<cv::Rect> boxes;
    std::vector<float> scores;
    std::vector<int> classes;
    for (const cv::Mat& out : outs) {
      // One image: a 2-D rows x (5 + classes) Mat. A batch: 3-D, N x rows x (5 + classes).
      const bool batched = out.dims == 3;
      const int per_image = batched ? out.size[1] : out.rows / static_cast<int>(n);
      const int cols = batched ? out.size[2] : out.cols;
      const float* base =
          batched ? out.ptr<float>(static_cast<int>(k)) : out.ptr<float>(static_cast<int>(k) * per_image);
      for (int r = 0; r < per_image; ++r) {
        const float* row = base + static_cast<std::ptrdiff_t>(r) * cols;
        if (row[4] < min_floor_) continue;  // objectness bounds every class score
        int best = -1;
        float best_score = 0;
        for (int c = 0; c < static_cast<int>(class_floor_.size()) && 5 + c < cols; ++c) {
          if (class_floor_[c] < 0 || row[5 + c] < class_floor_[c] || row[5 + c] <= best_score) continue;
          best = c;
          best_score = row[5 + c];
        }
        if (best < 0) continue;
        const double w = row[2] * crop_size.width;
        const double h = row[3] * crop_size.height;
        const double x = row[0] * crop_size.width - w / 2;
        const double y = row[1] * crop_size.height - h / 2;
        // Shift each class far apart so one NMS pass never suppresses across classes.
        boxes.emplace_back(static_cast<int>(x) + best * 8192, static_cast<int>(y), static_cast<int>(w),
                           static_cast<int>(h));
        scores.push_back(best_score);
        classes.push_back(best);
      }
    }
    std::vector<int> keep;
    cv::dnn::NMSBoxes(boxes, scores, static_cast<float>(min_floor_), static_cast<float>(config_.nms_iou), keep);
    std::vector<Detection> found;
    for (int i : keep) {
      const cv::Rect& b = boxes[i];
      const double x = b.x - classes[i] * 8192;
      Detection d;
      d.label = names_[classes[i]];
      d.score = scores[i];
      d.box = clip_to_picture(
          Box{region.x + x / crop_size.width * region.w, region.y + b.y / double(crop_size.height) * region.h,
              b.width / double(crop_size.width) * region.w, b.height / double(crop_size.height) * region.h});
      if (d.box.w > 0 && d.box.h > 0) found.push_back(std::move(d));
    }
    return found;
  }

  std::shared_ptr<NetPool> pool_;
  std::vector<std::string> names_;
  DnnModelConfig config_;
  std::vector<cv::String> out_names_;
  std::vector<double> class_floor_;
  double min_floor_ = 0.25;
  bool error_logged_ = false;
};

// The 80 COCO classes in darknet order, for models given without a names file.
std::vector<std::string> coco_names() {
  static const char* const kNames[] = {
      "person",         "bicycle",    "car",           "motorbike",     "aeroplane",   "bus",           "train",
      "truck",          "boat",       "traffic light", "fire hydrant",  "stop sign",   "parking meter", "bench",
      "bird",           "cat",        "dog",           "horse",         "sheep",       "cow",           "elephant",
      "bear",           "zebra",      "giraffe",       "backpack",      "umbrella",    "handbag",       "tie",
      "suitcase",       "frisbee",    "skis",          "snowboard",     "sports ball", "kite",          "baseball bat",
      "baseball glove", "skateboard", "surfboard",     "tennis racket", "bottle",      "wine glass",    "cup",
      "fork",           "knife",      "spoon",         "bowl",          "banana",      "apple",         "sandwich",
      "orange",         "broccoli",   "carrot",        "hot dog",       "pizza",       "donut",         "cake",
      "chair",          "sofa",       "pottedplant",   "bed",           "diningtable", "toilet",        "tvmonitor",
      "laptop",         "mouse",      "remote",        "keyboard",      "cell phone",  "microwave",     "oven",
      "toaster",        "sink",       "refrigerator",  "book",          "clock",       "vase",          "scissors",
      "teddy bear",     "hair drier", "toothbrush"};
  std::vector<std::string> out;
  for (const char* n : kNames) out.push_back(our_label(n));
  return out;
}

}  // namespace

Result<std::unique_ptr<ObjectDetector>> make_dnn_detector(const DnnModelConfig& config) {
  if (config.input < 32 || config.input % 32 != 0)
    return make_error(fmt::format("model input {} must be a positive multiple of 32", config.input));
  if (auto st = check_readable(config.cfg, "model cfg"); !st.ok()) return st.error();
  if (auto st = check_readable(config.weights, "model weights"); !st.ok()) return st.error();
  std::vector<std::string> names = coco_names();
  if (!config.names.empty()) {
    auto n = read_names(config.names);
    if (!n.ok()) return n.error();
    names = std::move(n.value());
  }
  for (const auto& label : config.labels) {
    if (std::find(names.begin(), names.end(), label) == names.end())
      return make_error(fmt::format("label '{}' is not a class of the model ({})", label,
                                    config.names.empty() ? std::string("COCO names") : config.names.string()));
  }
  auto pool = shared_pool(config);
  if (!pool.ok()) return pool.error();
  std::vector<cv::String> out_names;
  {
    NetLease net(*pool.value());
    out_names = (*net).getUnconnectedOutLayersNames();
  }
  return std::unique_ptr<ObjectDetector>(
      std::make_unique<DnnDetector>(std::move(pool.value()), std::move(out_names), std::move(names), config));
}

std::size_t dnn_networks_in_memory() {
  return g_networks.load();
}

}  // namespace matthan
