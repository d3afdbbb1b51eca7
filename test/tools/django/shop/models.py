from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100, unique=True)
    born = models.DateField(null=True)
    email = models.EmailField(default="unknown@example.com")


class Tag(models.Model):
    label = models.SlugField()


class Book(models.Model):
    title = models.CharField(max_length=250, db_index=True)
    isbn = models.CharField(max_length=13, null=True)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    price = models.DecimalField(max_digits=8, decimal_places=2)
    published = models.DateTimeField(null=True)
    tags = models.ManyToManyField(Tag, blank=True)
    pages = models.IntegerField(default=0)

    class Meta:
        unique_together = [("author", "title")]
