// The host-test collections share one set of images: a prune or image removal in one collection removed an image
// another was deploying ("cannot inspect … on this host", CI at 3f2f07b). Until each collection has images of its
// own, they run one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
