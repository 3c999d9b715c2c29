#include "agent/smtp/reply_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace tlsweep::agent {
namespace {

TEST(SmtpReplyParserTest, SingleLineReply) {
  SmtpReplyParser parser;
  parser.Feed("220 mx.example.test ESMTP Postfix\r\n");
  auto reply = parser.Next();
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->has_value());
  EXPECT_EQ((*reply)->code, 220);
  EXPECT_EQ((*reply)->lines, std::vector<std::string>{"mx.example.test ESMTP Postfix"});
}

TEST(SmtpReplyParserTest, MultiLineReplyAcrossPartialReads) {
  SmtpReplyParser parser;
  const std::string ehlo =
      "250-mx.example.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 SMTPUTF8\r\n";
  for (char c : ehlo) {
    auto none = parser.Next();
    ASSERT_TRUE(none.ok());
    ASSERT_FALSE(none->has_value());
    parser.Feed(std::string(1, c));
  }
  auto reply = parser.Next();
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->has_value());
  EXPECT_EQ((*reply)->code, 250);
  EXPECT_EQ((*reply)->lines.size(), 4u);
  EXPECT_EQ((*reply)->lines[2], "STARTTLS");
  EXPECT_EQ((*reply)->Text(), "mx.example.test\nPIPELINING\nSTARTTLS\nSMTPUTF8");
}

TEST(SmtpReplyParserTest, TwoRepliesInOneReadComeOutInOrder) {
  SmtpReplyParser parser;
  parser.Feed("250 ok\r\n221 bye\r\n");
  EXPECT_EQ((*parser.Next())->code, 250);
  EXPECT_EQ((*parser.Next())->code, 221);
  EXPECT_FALSE(parser.Next()->has_value());
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(SmtpReplyParserTest, BareCodeAndBareLfAreAccepted) {
  SmtpReplyParser parser;
  parser.Feed("250\n");
  auto reply = parser.Next();
  ASSERT_TRUE(reply.ok() && reply->has_value());
  EXPECT_EQ((*reply)->code, 250);
  EXPECT_EQ((*reply)->lines, std::vector<std::string>{""});
}

TEST(SmtpReplyParserTest, EndlessLineIsResourceExhaustedWithBoundedBuffer) {
  SmtpReplyParser parser(SmtpReplyLimits{.max_line_bytes = 1000});
  parser.Feed("220 ");
  absl::StatusOr<std::optional<ParsedReply>> reply = std::optional<ParsedReply>();
  for (int i = 0; i < 100 && reply.ok(); ++i) {
    parser.Feed(std::string(100, 'x'));
    reply = parser.Next();
  }
  EXPECT_TRUE(absl::IsResourceExhausted(reply.status()));
  EXPECT_LE(parser.buffered(), 1100u);
}

TEST(SmtpReplyParserTest, EndlessContinuationIsResourceExhausted) {
  SmtpReplyParser parser(SmtpReplyLimits{.max_lines = 10});
  absl::StatusOr<std::optional<ParsedReply>> reply = std::optional<ParsedReply>();
  for (int i = 0; i < 20 && reply.ok(); ++i) {
    parser.Feed("220-still going\r\n");
    reply = parser.Next();
  }
  EXPECT_TRUE(absl::IsResourceExhausted(reply.status()));
}

TEST(SmtpReplyParserTest, GarbageIsInvalidArgument) {
  SmtpReplyParser parser;
  parser.Feed(std::string("\x16\x03\x01\x00\x05hello\r\n", 12));
  EXPECT_TRUE(absl::IsInvalidArgument(parser.Next().status()));
  SmtpReplyParser text;
  text.Feed("HTTP/1.1 400 Bad Request\r\n");
  EXPECT_TRUE(absl::IsInvalidArgument(text.Next().status()));
}

TEST(SmtpReplyParserTest, CodeChangeInsideAMultiLineReplyIsInvalid) {
  SmtpReplyParser parser;
  parser.Feed("250-first\r\n550 second\r\n");
  EXPECT_TRUE(absl::IsInvalidArgument(parser.Next().status()));
}

}  // namespace
}  // namespace tlsweep::agent
