# perl_words: hash-heavy text processing in Perl (which uses the system malloc on Debian): word
# counts, bigram counts, a hash of arrays per first letter, then sorted reports.
use strict;
use warnings;

my (%count, %bigram, %by_letter);
open(my $in, '<', $ARGV[0]) or die "cannot read $ARGV[0]: $!";
while (my $line = <$in>) {
    chomp $line;
    my @w = split / /, $line;
    for my $i (0 .. $#w) {
        $count{$w[$i]}++;
        $bigram{"$w[$i] $w[$i + 1]"}++ if $i < $#w;
        push @{ $by_letter{substr($w[$i], 0, 1)} }, $w[$i] if length($w[$i]) > 6;
    }
}
close $in;

my @top = (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count)[0 .. 19];
print "$_ $count{$_}\n" for @top;
my @pairs = (sort { $bigram{$b} <=> $bigram{$a} || $a cmp $b } keys %bigram)[0 .. 9];
print "$_ $bigram{$_}\n" for @pairs;
for my $letter (sort keys %by_letter) {
    my %seen;
    my @uniq = grep { !$seen{$_}++ } @{ $by_letter{$letter} };
    printf "%s %d %d\n", $letter, scalar @{ $by_letter{$letter} }, scalar @uniq;
}
printf "words %d bigrams %d\n", scalar(keys %count), scalar(keys %bigram);
