//! The data-set abstraction the trainer sees: length, an image and its label(s) by index,
//! class names and optional superclasses. CIFAR-100 implements it ([`Cifar100Split`]); an
//! image-folder loader implements it the same way.

use std::borrow::Cow;
use std::sync::Arc;

use super::cifar100::{Cifar100, IMAGE_BYTES};

/// One image: 8-bit RGB, planar (`3 x height x width`, channel-major).
#[derive(Debug, Clone)]
pub struct ImageRef<'a> {
    /// `3 * height * width` bytes.
    pub pixels: Cow<'a, [u8]>,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

/// A labelled image data set.
pub trait Dataset: Send + Sync {
    /// A name for logs and records (`cifar100/train`).
    fn name(&self) -> String;
    /// Number of images.
    fn len(&self) -> usize;
    /// Whether there are no images.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Image `i`.
    fn image(&self, i: usize) -> ImageRef<'_>;
    /// Image `i` as a train-time random resized crop of its full-resolution source
    /// (`[augment] random_resized_crop`): the box `cropper` draws for `seed` on the source,
    /// resized to the size [`Dataset::image`] gives (antialiased bilinear), flipped when drawn.
    /// The default takes [`Dataset::image`] as the source (right for in-memory data sets such as
    /// CIFAR-100, whose stored images are the source); image folders crop the decoded file.
    fn image_source_crop(
        &self,
        i: usize,
        cropper: &brainlike_augment::SourceCropper,
        seed: u64,
    ) -> ImageRef<'_> {
        let img = self.image(i);
        let src = super::image::from_planar(&img.pixels, img.height, img.width);
        let pixels = super::image::source_crop(src, cropper, seed, img.height, img.width)
            .unwrap_or_else(|e| panic!("{} image {i}: {e}", self.name()));
        ImageRef {
            pixels: Cow::Owned(pixels),
            height: img.height,
            width: img.width,
        }
    }
    /// Class of image `i` (index into [`Dataset::classes`]).
    fn label(&self, i: usize) -> usize;
    /// Class names.
    fn classes(&self) -> &[String];
    /// Superclass of image `i`, when the data set has them.
    fn superclass(&self, _i: usize) -> Option<usize> {
        None
    }
    /// Superclass of class `c`, when the data set has them.
    fn superclass_of_class(&self, _c: usize) -> Option<usize> {
        None
    }
    /// Superclass names, when the data set has them.
    fn superclasses(&self) -> Option<&[String]> {
        None
    }
}

/// Mean pixel value in [0, 1] over all channels of the first `n` images (all if `n == 0`):
/// the first paper's global centring value. Exact (integer sum).
pub fn global_mean_first(data: &dyn Dataset, n: usize) -> f64 {
    let n = if n == 0 {
        data.len()
    } else {
        n.min(data.len())
    };
    let (mut sum, mut count) = (0u64, 0usize);
    for i in 0..n {
        let img = data.image(i);
        sum += img.pixels.iter().map(|&b| b as u64).sum::<u64>();
        count += img.pixels.len();
    }
    sum as f64 / (count.max(1) as f64 * 255.0)
}

/// Which half of CIFAR-100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The 50,000 training images.
    Train,
    /// The 10,000 test images.
    Test,
}

/// A CIFAR-100 split as a [`Dataset`], optionally with replaced fine labels (label corruption).
#[derive(Debug, Clone)]
pub struct Cifar100Split {
    data: Arc<Cifar100>,
    part: Part,
    labels: Option<Arc<Vec<u8>>>,
}

impl Cifar100Split {
    /// `part` of `data`.
    pub fn new(data: Arc<Cifar100>, part: Part) -> Self {
        Self {
            data,
            part,
            labels: None,
        }
    }

    /// The same images with other fine labels (one per image).
    pub fn with_labels(mut self, labels: Arc<Vec<u8>>) -> Self {
        assert_eq!(labels.len(), self.split().len(), "one label per image");
        self.labels = Some(labels);
        self
    }

    fn split(&self) -> &super::Split {
        match self.part {
            Part::Train => &self.data.train,
            Part::Test => &self.data.test,
        }
    }
}

impl Dataset for Cifar100Split {
    fn name(&self) -> String {
        match self.part {
            Part::Train => "cifar100/train".into(),
            Part::Test => "cifar100/test".into(),
        }
    }

    fn len(&self) -> usize {
        self.split().len()
    }

    fn image(&self, i: usize) -> ImageRef<'_> {
        let s = self.split();
        ImageRef {
            pixels: Cow::Borrowed(&s.images[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES]),
            height: 32,
            width: 32,
        }
    }

    fn label(&self, i: usize) -> usize {
        match &self.labels {
            Some(l) => l[i] as usize,
            None => self.split().fine[i] as usize,
        }
    }

    fn classes(&self) -> &[String] {
        &self.data.fine_names
    }

    fn superclass(&self, i: usize) -> Option<usize> {
        Some(self.split().coarse[i] as usize)
    }

    fn superclass_of_class(&self, c: usize) -> Option<usize> {
        self.data.fine_to_coarse.get(c).map(|&s| s as usize)
    }

    fn superclasses(&self) -> Option<&[String]> {
        Some(&self.data.coarse_names)
    }
}
