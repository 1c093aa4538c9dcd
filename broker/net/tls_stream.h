#pragma once

// TlsStream: a TCP connection's byte stream, plaintext or TLS, as one Asio AsyncStream, so coroutines read
// and write it with asio::async_read / async_write either way (the replication port and a slave's copy use
// it; the remoting connections use TlsSession directly). TLS runs on a net::TlsContext's SSL_CTX (the same
// certificates and modes as the remoting ports).
//
// Thread-safety: the connection's I/O thread only. The socket outlives the stream.

#include <utility>  // Boost 1.74's Asio misses this include

#include <openssl/ssl.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <memory>

#include "broker/net/tls.h"

namespace fmq::net {

class TlsStream {
 public:
  using executor_type = boost::asio::ip::tcp::socket::executor_type;

  explicit TlsStream(boost::asio::ip::tcp::socket& socket) : socket_(socket) {}

  // Wraps the socket in TLS with `context` (its SSL_CTX is shared, not copied).
  void UseTls(const std::shared_ptr<const TlsContext>& context) {
    context_ = context;
    SSL_CTX_up_ref(context->native());  // asio::ssl::context frees the handle it is given
    asio_context_ = std::make_unique<boost::asio::ssl::context>(context->native());
    ssl_ = std::make_unique<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>>(socket_, *asio_context_);
  }
  bool tls() const { return ssl_ != nullptr; }

  template <typename Token>
  auto async_handshake(bool server, Token&& token) {
    return ssl_->async_handshake(
        server ? boost::asio::ssl::stream_base::server : boost::asio::ssl::stream_base::client,
        std::forward<Token>(token));
  }

  executor_type get_executor() { return socket_.get_executor(); }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (ssl_) {
            ssl_->async_read_some(b, std::move(handler));
          } else {
            socket_.async_read_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (ssl_) {
            ssl_->async_write_some(b, std::move(handler));
          } else {
            socket_.async_write_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

 private:
  boost::asio::ip::tcp::socket& socket_;
  std::shared_ptr<const TlsContext> context_;
  std::unique_ptr<boost::asio::ssl::context> asio_context_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> ssl_;
};

}  // namespace fmq::net
