// Cost of encoding one incident event and of validating it against the schema.
#include <benchmark/benchmark.h>

#include "matthan/events/event_json.hpp"

#ifndef MATTHAN_SCHEMA_DIR
#define MATTHAN_SCHEMA_DIR "schemas"
#endif

namespace {

matthan::Incident sample_incident() {
  matthan::Incident inc;
  inc.started_at = std::chrono::system_clock::now();
  inc.id = matthan::make_incident_id("cam1", inc.started_at);
  inc.camera = "cam1";
  inc.score = 0.73;
  inc.box = {0.1234, 0.25, 0.2, 0.5};
  inc.ended_at = inc.started_at + std::chrono::seconds(12);
  inc.end_reason = "quiet";
  return inc;
}

void BM_EncodeEndEvent(benchmark::State& state) {
  const matthan::Incident inc = sample_incident();
  const matthan::ClipRef clip{"clips/cam1/x.mp4", inc.started_at, *inc.ended_at, 22.0};
  std::uint64_t seq = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        matthan::incident_event_json(inc, matthan::IncidentPhase::kEnd, seq++, "node-a", "snap/x.jpg", clip));
  }
}
BENCHMARK(BM_EncodeEndEvent);

void BM_ValidateEndEvent(benchmark::State& state) {
  auto validator = matthan::JsonSchemaValidator::from_file(std::string(MATTHAN_SCHEMA_DIR) + "/incident.schema.json");
  if (!validator) {
    state.SkipWithError(validator.error().message.c_str());
    return;
  }
  const matthan::Incident inc = sample_incident();
  const std::string json =
      matthan::incident_event_json(inc, matthan::IncidentPhase::kEnd, 1, "node-a", "snap/x.jpg",
                                   matthan::ClipRef{"clips/cam1/x.mp4", inc.started_at, *inc.ended_at, 22.0});
  for (auto _ : state) benchmark::DoNotOptimize(validator->validate(json).ok());
}
BENCHMARK(BM_ValidateEndEvent);

}  // namespace
