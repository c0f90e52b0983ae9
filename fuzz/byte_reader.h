// allocbench::fuzz::byte_reader: takes numbers off the front of a fuzz input. Past the end it yields
// zeros, so that every input, however short, decodes to something.
#pragma once

#include <cstddef>
#include <cstdint>

namespace allocbench::fuzz {

class byte_reader {
 public:
  byte_reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const noexcept { return pos_ >= size_; }

  std::uint8_t u8() noexcept { return pos_ < size_ ? data_[pos_++] : 0; }

  std::uint16_t u16() noexcept {
    const std::uint16_t lo = u8();
    return static_cast<std::uint16_t>(lo | (u8() << 8));
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace allocbench::fuzz
