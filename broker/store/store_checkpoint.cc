#include "broker/store/store_checkpoint.h"

#include <algorithm>

#include "broker/base/coding.h"

namespace fmq::store {

Result<std::unique_ptr<StoreCheckpoint>> StoreCheckpoint::Open(io::FileSystem& fs, const std::string& path) {
  FMQ_ASSIGN_OR_RETURN(auto file, fs.Open(path, io::OpenMode::kCreateReadWrite));
  FMQ_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  uint8_t buf[24] = {};
  if (size >= sizeof(buf)) {
    FMQ_ASSIGN_OR_RETURN(size_t n, file->ReadAt(0, buf));
    if (n != sizeof(buf)) return Status::Corruption("checkpoint " + path + ": short read");
  }
  if (size < kFileSize) FMQ_RETURN_IF_ERROR(file->Allocate(kFileSize));
  std::unique_ptr<StoreCheckpoint> cp(new StoreCheckpoint(std::move(file)));
  cp->physic_ = DecodeI64(buf + kPhysicPos);
  cp->logics_ = DecodeI64(buf + kLogicsPos);
  cp->index_ = DecodeI64(buf + kIndexPos);
  return cp;
}

int64_t StoreCheckpoint::MinTimestamp(bool include_index) const {
  int64_t m = std::min(physic_.load(), logics_.load());
  return include_index ? std::min(m, index_.load()) : m;
}

Status StoreCheckpoint::Flush() {
  uint8_t buf[24];
  EncodeI64(buf + kPhysicPos, physic_.load());
  EncodeI64(buf + kLogicsPos, logics_.load());
  EncodeI64(buf + kIndexPos, index_.load());
  MutexLock lock(&mu_);
  FMQ_RETURN_IF_ERROR(file_->WriteAt(0, buf));
  return file_->Sync();
}

}  // namespace fmq::store
