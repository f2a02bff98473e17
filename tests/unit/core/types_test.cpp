// Box overlap (intersection_area, iou), shared by the detector's NMS/tracker and the object incidents'
// parked-object memory.
#include "matthan/core/types.hpp"

#include <gtest/gtest.h>

namespace matthan {
namespace {

TEST(BoxIntersection, DisjointOrTouchingBoxesShareNothing) {
  const Box a{0.25, 0.25, 0.25, 0.25};  // exact in binary, so the shared edges below are exact too
  EXPECT_DOUBLE_EQ(intersection_area(a, Box{0.75, 0.75, 0.125, 0.125}), 0.0);  // apart on both axes
  EXPECT_DOUBLE_EQ(intersection_area(a, Box{0.25, 0.75, 0.25, 0.25}), 0.0);    // overlapping in x only
  EXPECT_DOUBLE_EQ(intersection_area(a, Box{0.5, 0.25, 0.25, 0.25}), 0.0);     // one shared edge
  EXPECT_DOUBLE_EQ(intersection_area(a, Box{0.5, 0.5, 0.25, 0.25}), 0.0);      // one shared corner
}

TEST(BoxIntersection, NestedBoxSharesAllOfItself) {
  const Box outer{0, 0, 4, 4};
  const Box inner{1, 1, 2, 2};
  EXPECT_DOUBLE_EQ(intersection_area(outer, inner), inner.area());
  EXPECT_DOUBLE_EQ(intersection_area(inner, outer), inner.area());
  EXPECT_DOUBLE_EQ(intersection_area(outer, outer), outer.area());
}

TEST(BoxIntersection, PartialOverlapIsTheSharedRectangleAndSymmetric) {
  const Box a{0, 0, 2, 2};
  const Box b{1, 0.5, 2, 3};  // shares x 1..2 and y 0.5..2: 1 x 1.5
  EXPECT_DOUBLE_EQ(intersection_area(a, b), 1.5);
  EXPECT_DOUBLE_EQ(intersection_area(b, a), 1.5);
  EXPECT_DOUBLE_EQ(intersection_area(Box{-1, -1, 2, 2}, a), 1.0);                  // negative coordinates too
  EXPECT_DOUBLE_EQ(intersection_area(Box{0.2, 0.2, 0, 0}, Box{0, 0, 1, 1}), 0.0);  // an empty box
}

TEST(BoxIou, SameBoxIsOneDisjointOrTouchingIsZero) {
  const Box a{0.25, 0.25, 0.25, 0.25};  // exact in binary, so the shared edge below is exact too
  EXPECT_DOUBLE_EQ(iou(a, a), 1.0);
  EXPECT_DOUBLE_EQ(iou(a, Box{0.75, 0.75, 0.125, 0.125}), 0.0);
  EXPECT_DOUBLE_EQ(iou(a, Box{0.5, 0.25, 0.25, 0.25}), 0.0);  // shares only an edge
}

TEST(BoxIou, PartialOverlapIsIntersectionOverUnionAndSymmetric) {
  const Box a{0, 0, 2, 2};
  const Box b{1, 1, 2, 2};  // intersection 1, union 4 + 4 - 1 = 7
  EXPECT_NEAR(iou(a, b), 1.0 / 7.0, 1e-12);
  EXPECT_DOUBLE_EQ(iou(a, b), iou(b, a));
  EXPECT_NEAR(iou(Box{0, 0, 4, 4}, Box{1, 1, 2, 2}), 4.0 / 16.0, 1e-12);  // one inside the other
}

TEST(BoxIou, EmptyBoxesNeverDivideByZero) {
  EXPECT_DOUBLE_EQ(iou(Box{}, Box{}), 0.0);
  EXPECT_DOUBLE_EQ(iou(Box{0.2, 0.2, 0, 0}, Box{0, 0, 1, 1}), 0.0);
}

TEST(BoxClip, ABoxInsideThePictureIsUnchanged) {
  const Box b{0.1, 0.2, 0.3, 0.4};
  const Box c = clip_to_picture(b);
  // The size comes back as (x + w) - x, which may differ from w in the last bit.
  EXPECT_DOUBLE_EQ(c.x, b.x);
  EXPECT_DOUBLE_EQ(c.y, b.y);
  EXPECT_NEAR(c.w, b.w, 1e-12);
  EXPECT_NEAR(c.h, b.h, 1e-12);
}

TEST(BoxClip, APartPastTheBorderIsCutOff) {
  const Box c = clip_to_picture(Box{-0.2, 0.7, 0.5, 0.5});  // past the left and the bottom
  EXPECT_DOUBLE_EQ(c.x, 0.0);
  EXPECT_DOUBLE_EQ(c.y, 0.7);
  EXPECT_NEAR(c.w, 0.3, 1e-12);
  EXPECT_NEAR(c.h, 0.3, 1e-12);
}

TEST(BoxClip, ABoxWhollyOutsideHasNoArea) {
  EXPECT_LE(clip_to_picture(Box{1.2, 0.1, 0.3, 0.3}).w, 0.0);
  EXPECT_LE(clip_to_picture(Box{0.1, -0.6, 0.3, 0.3}).h, 0.0);
  EXPECT_EQ(clip_to_picture(Box{1.2, 0.1, 0.3, 0.3}).area(), 0.0);
}

}  // namespace
}  // namespace matthan
